"""Secret references of metric sources (`env:NAME`, `secret:BLOCK`), read at pull time.

The same resolution as notification channels (the Prefect Secret loader is theirs),
but a missing value is an error here rather than "not configured": a metric source
that cannot connect must hold its gates, not be skipped. Every value read is
registered with the redactor, so it is masked in any error or log line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from pilotscale.notifications.channels import ChannelUnavailable, load_prefect_secret
from pilotscale.redact import install_log_guards, register, scrub

SecretLoader = Callable[[str], "str | None"]


class SourceError(RuntimeError):
    """A metric source could not be read; the message is safe to show and store."""

    def __init__(self, message: str) -> None:
        super().__init__(scrub(message))


def resolve_ref(
    ref: str,
    *,
    environ: Mapping[str, str] | None = None,
    secret_loader: SecretLoader = load_prefect_secret,
) -> str:
    """The value behind `ref`, registered as a secret; SourceError when there is none."""
    install_log_guards()
    where, _, name = ref.partition(":")
    if where == "env":
        value = (environ if environ is not None else os.environ).get(name)
        missing = f"environment variable {name} is not set"
    else:
        try:
            value = secret_loader(name)
        except ChannelUnavailable as exc:
            raise SourceError(str(exc)) from None
        missing = f"Prefect Secret block '{name}' does not exist"
    if not value:
        raise SourceError(missing)
    register(value)
    return value


def register_parts(*values: str) -> None:
    """Register more secret parts (e.g. a password inside a database URL)."""
    register(*values)
