"""Secret references in the plan (`env:NAME`, `secret:BLOCK`), read when they are used.

The plan names where a secret lives, never the secret: a channel's URL and a metric
source's header or database password alike. This is the one reader of such references;
what a missing value means is the caller's: a channel is "not configured" (its sends
fail and are retried), a metric source is an error (its gates hold, not skipped).
Callers register what they read with the redactor (`pilotscale.redact`), so it is masked
in any error or log line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

from pilotscale.redact import install_log_guards, scrub

SecretLoader = Callable[[str], "str | None"]


class SecretUnreadable(RuntimeError):
    """Where the secret lives could not be read now (the Prefect API is down): a later
    attempt may succeed, unlike a secret that is not set."""


def load_prefect_secret(block: str) -> str | None:
    """The value of Prefect Secret block `block`, or None when there is no such block."""
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(block, _sync=True)  # type: ignore[call-arg]
    except ValueError:  # Prefect's way of saying the block does not exist
        return None
    except Exception as exc:
        raise SecretUnreadable(
            f"cannot read Prefect Secret block '{block}': {type(exc).__name__}: {scrub(str(exc))}"
        ) from None
    value = cast(Secret, secret).get()
    return str(value) if value is not None else None


@dataclass(frozen=True)
class Lookup:
    where: str  # "environment variable NAME" or "Prefect Secret block 'NAME'"
    in_environment: bool
    value: str | None = field(default=None, repr=False)  # None: nothing there


def read_ref(
    ref: str,
    *,
    environ: Mapping[str, str] | None = None,
    secret_loader: SecretLoader = load_prefect_secret,
) -> Lookup:
    """What `ref` points at now; SecretUnreadable when the Secret block cannot be read."""
    install_log_guards()
    source, _, name = ref.partition(":")
    if source == "env":
        value = (environ if environ is not None else os.environ).get(name)
        return Lookup(f"environment variable {name}", True, value)
    return Lookup(f"Prefect Secret block '{name}'", False, secret_loader(name))
