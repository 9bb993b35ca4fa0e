"""Plan channels resolved at send time: a URL from the environment or a Prefect Secret.

The plan only names where a URL lives (`env:NAME` or `secret:BLOCK`); the URL itself
is read when a message is sent, is never stored, and is shown only masked. A
reference that resolves to nothing means "not configured": a send on it fails (and is
retried, then dead with an alert), unless local delivery is switched on
(PILOTSCALE_LOCAL_DELIVERY, the demo), which writes it to the local folder instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import cast

import apprise

from notifications.redact import (
    MASK,
    all_parts,
    install_log_guards,
    register,
    scrub,
    secret_parts,
)
from pilotscale.plan.schema import Channel

SecretLoader = Callable[[str], "str | None"]

# Generic webhooks carry their token in the path, which Apprise's privacy form shows.
_PATH_SECRET_SCHEMAS = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})


class ChannelUnavailable(RuntimeError):
    """The channel cannot be used right now: its URL could not be read (the Prefect API
    is down) or is not set. The message stays queued and is retried."""


@dataclass(frozen=True)
class ResolvedChannel:
    name: str
    kind: str  # "email" | "chat"
    masked: str  # what may be shown: Apprise's privacy URL, or why it is not configured
    url: str | None = field(default=None, repr=False)  # None: not configured

    @property
    def configured(self) -> bool:
        return self.url is not None

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"


def load_prefect_secret(block: str) -> str | None:
    """The value of Prefect Secret block `block`, or None when there is no such block."""
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(block, _sync=True)  # type: ignore[call-arg]
    except ValueError:  # Prefect's way of saying the block does not exist
        return None
    except Exception as exc:
        raise ChannelUnavailable(
            f"cannot read Prefect Secret block '{block}': {type(exc).__name__}: {scrub(str(exc))}"
        ) from None
    value = cast(Secret, secret).get()
    return str(value) if value is not None else None


def resolve(
    channel: Channel,
    *,
    environ: Mapping[str, str] | None = None,
    secret_loader: SecretLoader = load_prefect_secret,
) -> ResolvedChannel:
    """Read `channel`'s URL now; a missing or empty value means not configured."""
    install_log_guards()
    source, _, name = channel.url.partition(":")
    if source == "env":
        raw = (environ if environ is not None else os.environ).get(name)
        where = f"environment variable {name}"
    else:
        raw = secret_loader(name)
        where = f"Prefect Secret block '{name}'"
    if raw is None or not raw.strip():
        return ResolvedChannel(channel.name, channel.kind, f"not configured: {where} is not set")
    url = raw.strip()
    masked = mask(url)
    return ResolvedChannel(channel.name, channel.kind, masked, url)


def mask(url: str) -> str:
    """Apprise's privacy form of `url`; registers the URL's secret parts for scrubbing."""
    install_log_guards()
    register(url)
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        schema = url.split("://", 1)[0] if "://" in url else "?"
        register(*(all_parts(url) - {schema}))
        return f"{schema}://{MASK} (not a URL Apprise understands)"
    masked = str(plugin.url(privacy=True))
    full = str(plugin.url(privacy=False))
    secrets = secret_parts(url, full, masked)
    schema = masked.split("://", 1)[0]
    if schema in _PATH_SECRET_SCHEMAS:
        path = re.match(r"^[a-z]+://[^/?]*(/[^?]*)", full)
        secrets |= {p for p in (path.group(1).split("/") if path else []) if _token_like(p)}
        masked = re.sub(r"^([a-z]+://[^/?]*)/[^?]*", rf"\1/{MASK}", masked)
    register(*secrets)
    return _without_defaults(masked)


def _token_like(part: str) -> bool:
    """A path part that looks generated (long, with digits), not a word such as 'hooks'."""
    return len(part) >= 8 and any(c.isdigit() for c in part)


# Apprise writes every option into its URLs; these say nothing about where a message went.
_NOISE = frozenset(
    {"format", "overflow", "retry", "wait", "optional", "cto", "rto", "store", "emojis", "tz"}
)


def _without_defaults(url: str) -> str:
    base, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and p.split("=", 1)[0] not in _NOISE]
    return f"{base}?{'&'.join(kept)}" if kept else base
