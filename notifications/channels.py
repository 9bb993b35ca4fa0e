"""Plan channels resolved at send time: a URL from the environment or a Prefect Secret.

The plan only names where a URL lives (`env:NAME` or `secret:BLOCK`); the URL itself
is read when a message is sent, is never stored, and is shown only masked. A
reference that resolves to nothing means "not configured": a send on it fails (and is
retried, then dead with an alert), unless local delivery is switched on
(PILOTSCALE_LOCAL_DELIVERY, the demo), which writes it to the local folder instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from apprise.manager_plugins import NotificationManager

from pilotscale.plan.schema import Channel
from pilotscale.redact import install_log_guards, masked_url, register
from pilotscale.secrets import SecretLoader, SecretUnreadable, load_prefect_secret, read_ref

N_MGR = NotificationManager()  # Apprise's plugin registry (a shared singleton)


class ChannelUnavailable(RuntimeError):
    """The channel cannot be used right now: its URL could not be read (the Prefect API
    is down) or is not set. The message stays queued and is retried."""


@dataclass(frozen=True)
class ResolvedChannel:
    name: str
    kind: str  # "email" | "chat"
    masked: str  # what may be shown: the URL with its secrets masked, or why it is not set
    url: str | None = field(default=None, repr=False)  # None: not configured

    @property
    def configured(self) -> bool:
        return self.url is not None

    def __str__(self) -> str:
        return f"{self.name} ({self.masked})"


def resolve(
    channel: Channel,
    *,
    environ: Mapping[str, str] | None = None,
    secret_loader: SecretLoader = load_prefect_secret,
) -> ResolvedChannel:
    """Read `channel`'s URL now; a missing or empty value means not configured."""
    try:
        found = read_ref(channel.url, environ=environ, secret_loader=secret_loader)
    except SecretUnreadable as exc:
        raise ChannelUnavailable(str(exc)) from None
    if found.value is None or not found.value.strip():
        return ResolvedChannel(
            channel.name, channel.kind, f"not configured: {found.where} is not set"
        )
    url = found.value.strip()
    masked = mask(url)
    return ResolvedChannel(channel.name, channel.kind, masked, url)


def mask(url: str) -> str:
    """`url` with every part that can hold a secret masked; registers those parts so
    that any error or log line that echoes them is scrubbed too."""
    install_log_guards()
    schema = url.split("://", 1)[0].lower() if "://" in url else ""
    plugin = N_MGR[schema] if schema in N_MGR else None  # noqa: SIM401 (it has no .get)
    # A real host is named by the plugin's templates; elsewhere that position is a token.
    templates = getattr(plugin, "templates", ()) or ()
    host_is_secret = not any("{host}" in t for t in templates)
    options = getattr(plugin, "template_args", None) or {}
    shown, secrets = masked_url(
        url, host_is_secret=host_is_secret, public=partial(_declared_value, options)
    )
    register(*secrets)
    if plugin is None:
        return f"{shown} (not a URL Apprise understands)"
    return shown


_YES_NO = frozenset({"yes", "no", "true", "false", "on", "off", "1", "0"})


def _declared_value(options: Mapping[str, Any], key: str, value: str) -> bool:
    """A value the plugin declares as one of a fixed list (`method=POST`) or a yes/no:
    a public word, not a secret."""
    spec = options.get(key.lower()) or {}
    kind = str(spec.get("type", ""))
    if kind == "bool":
        return value.lower() in _YES_NO
    if kind.startswith("choice"):
        return value.lower() in {str(v).lower() for v in spec.get("values", ())}
    return False
