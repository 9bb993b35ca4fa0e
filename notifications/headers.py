"""The headers of an email beyond its subject: who a reply reaches, that a machine sent
it, and how to stop the messages nobody has to act on.

- `Auto-Submitted: auto-generated` (RFC 3834) on every email, so out-of-office replies
  and auto-forwarders leave it alone.
- `Reply-To`: the owner of the gate the message is about (they can say what is
  missing), otherwise the program lead; never pilotscale's own sender address.
- `List-Unsubscribe` on non-essential messages (`catalog.NON_ESSENTIAL`): the person's
  own page (where they choose what they get) and a mail to the program lead.

Everything here comes from the message's context as sent (`program_lead` and `links`
are added at dispatch), so a header never names anything the body does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from pilotscale.notifications.catalog import NON_ESSENTIAL

AUTO_SUBMITTED = "Auto-Submitted"
LIST_UNSUBSCRIBE = "List-Unsubscribe"


def reply_to(context: Mapping[str, Any]) -> str | None:
    """The gate owner's address for a message about a gate, else the program lead's."""
    for candidate in (
        _get(context, "gate", "owner", "email"),
        _get(context, "program_lead", "email"),
    ):
        if candidate and _plain_address(candidate):
            return candidate
    return None


def email_headers(event: str, context: Mapping[str, Any]) -> dict[str, str]:
    """Extra headers for an email of `event` (Reply-To is separate: Apprise sets it)."""
    headers = {AUTO_SUBMITTED: "auto-generated"}
    if event in NON_ESSENTIAL:
        targets = []
        mine = _get(context, "links", "mine")
        if mine and mine.startswith(("https://", "http://")) and _plain_address(mine):
            targets.append(f"<{mine}>")
        lead = _get(context, "program_lead", "email")
        if lead and _plain_address(lead):
            targets.append(f"<mailto:{quote(lead, safe='@')}?subject=unsubscribe>")
        if targets:
            headers[LIST_UNSUBSCRIBE] = ", ".join(targets)
    return headers


def _get(context: Mapping[str, Any], *keys: str) -> str:
    value: Any = context
    for key in keys:
        if not isinstance(value, Mapping):
            return ""
        value = value.get(key)
    return value if isinstance(value, str) else ""


def _plain_address(value: str) -> bool:
    """No character that could end the header or the bracketed URI it sits in."""
    return not any(c in value for c in "\r\n<>,\"' ") and value.isprintable()
