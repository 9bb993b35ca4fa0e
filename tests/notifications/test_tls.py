"""While pilotscale sends, Apprise's email plugin reuses one TLS context per mode."""

from __future__ import annotations

import ssl

from apprise.plugins.email import base

from pilotscale.notifications.tls import shared_tls


def test_contexts_are_shared_per_mode_and_only_inside_the_block() -> None:
    with shared_tls(verify=True):
        verifying = base.ssl.create_default_context()
        assert base.ssl.create_default_context() is verifying
    with shared_tls(verify=False):
        loose = base.ssl.create_default_context()
    outside = base.ssl.create_default_context()

    assert verifying.verify_mode == ssl.CERT_REQUIRED
    assert verifying.check_hostname
    assert loose is not verifying
    assert loose.verify_mode == ssl.CERT_NONE
    assert outside is not verifying
    assert outside is not loose
    assert outside.verify_mode == ssl.CERT_REQUIRED
