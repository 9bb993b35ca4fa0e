"""One TLS context per certificate-checking mode, instead of one per email.

Apprise's email plugin calls `ssl.create_default_context()` on every send, even for
plain SMTP. That call loads the system's CA bundle (about 40 ms, holding the GIL),
which alone caps email delivery at ~25 messages/s whatever the concurrency. While
pilotscale sends (and only then, on that thread) the plugin gets a context built
once per mode instead: one that verifies certificates, and one that does not for
channels whose URL says `verify=no`. Apprise only ever loosens the second, so the
verifying one is never changed. Any other use of Apprise in the process, or a
plugin version without the module-level `ssl` this relies on, gets the normal call.
"""

from __future__ import annotations

import ssl
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_local = threading.local()
_lock = threading.Lock()
_contexts: dict[bool, ssl.SSLContext] = {}
_installed = False


def _context(verify: bool) -> ssl.SSLContext:
    context = _contexts.get(verify)
    if context is not None:
        return context
    with _lock:
        context = _contexts.get(verify)
        if context is None:
            context = ssl.create_default_context()
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            _contexts[verify] = context
        return context


def _create_default_context(*args: Any, **kwargs: Any) -> ssl.SSLContext:
    verify: bool | None = getattr(_local, "verify", None)
    if verify is None or args or kwargs:
        return ssl.create_default_context(*args, **kwargs)
    return _context(verify)


def _install() -> bool:
    global _installed
    if _installed:
        return True
    with _lock:
        if _installed:
            return True
        try:
            from apprise.plugins.email import base
        except ImportError:
            return False
        if getattr(base, "ssl", None) is not ssl:
            return False
        proxy = types.ModuleType("ssl")
        proxy.__dict__.update(ssl.__dict__)
        proxy.create_default_context = _create_default_context  # type: ignore[attr-defined]
        base.ssl = proxy
        _installed = True
        return True


@contextmanager
def shared_tls(*, verify: bool) -> Iterator[None]:
    """While the block runs on this thread, Apprise email sends reuse a TLS context."""
    if not _install():
        yield
        return
    previous = getattr(_local, "verify", None)
    _local.verify = verify
    try:
        yield
    finally:
        _local.verify = previous
