"""Which channels carry a message to its recipient: the plan's channels and each
person's preference (email, chat, both, or the digest only); and when it may go (their
quiet hours and digest day, `send_after`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pilotscale.core.messages import Message
from pilotscale.core.quiet_hours import preferences, send_at
from pilotscale.notifications.catalog import Medium
from pilotscale.plan.schema import Person, Plan

LOCAL = "local"  # no email channel in the plan: the local outbox folder
CHANNEL_PREFIX = "channel:"
DIGEST = "weekly_digest"
ALERT = "delivery_failure"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    channel: str  # a plan channel name, or LOCAL
    medium: Medium
    recipient: dict[str, Any]  # stored with the message: who, and their address


def routes(plan: Plan, message: Message) -> list[Route]:
    """One route per channel the message goes out on; [] when the person opted out."""
    if message.recipient.startswith(CHANNEL_PREFIX):
        return [_channel_route(plan, message.recipient.removeprefix(CHANNEL_PREFIX))]
    person = plan.find_person(message.recipient)
    if person is None:
        # Messages are built from the same plan, so this is a bug upstream; never let it
        # fail the transaction that changed the department.
        log.warning("no person '%s' in the plan: %s not queued", message.recipient, message.event)
        return []
    return _person_routes(plan, person, message.event, message.action_required)


def _channel_route(plan: Plan, name: str) -> Route:
    recipient = {
        "id": f"{CHANNEL_PREFIX}{name}",
        "name": f"#{name}",
        "email": None,
        "chat": None,
        "kind": "channel",
    }
    known = any(c.name == name and c.kind == "chat" for c in plan.channels)
    return Route(name if known else LOCAL, "chat", recipient)


def _person_routes(plan: Plan, person: Person, event: str, action_required: bool) -> list[Route]:
    # A list of open items asks to act unless it holds only a department's state.
    notify = person.effective_notify
    if notify == "digest" and not action_required and event != DIGEST:
        return []
    recipient = {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "chat": person.chat,
        "kind": "person",
    }
    email_channel = _named(plan, plan.program.email_channel, "email") or LOCAL
    chat_channel = _named(plan, plan.program.chat_channel, "chat") if person.chat else None
    wants_chat = notify in ("chat", "both")
    # Without a chat address or channel, chat people get email: nobody is silently dropped.
    wants_email = notify in ("email", "both", "digest") or chat_channel is None
    result: list[Route] = []
    if wants_email:
        result.append(Route(email_channel, "email", recipient))
    if wants_chat and chat_channel is not None:
        result.append(Route(chat_channel, "chat", recipient))
    if event == ALERT and all(r.channel != LOCAL for r in result):
        # The alert says delivery is failing, maybe on this very channel: keep a copy
        # in the local folder too, where it cannot fail the same way.
        result.append(Route(LOCAL, "email", recipient))
    return result


def _named(plan: Plan, name: str | None, kind: str) -> str | None:
    if name and any(c.name == name and c.kind == kind for c in plan.channels):
        return name
    return None


def send_after(plan: Plan, message: Message, now: datetime) -> datetime:
    """When the message may go (its outbox row's next_attempt_at): now, or later when its
    recipient is in their quiet hours or waits for their digest day (core.quiet_hours).
    A channel has no quiet hours: whoever reads it chose to."""
    person = None
    if not message.recipient.startswith(CHANNEL_PREFIX):
        person = plan.find_person(message.recipient)
    if person is None:
        return now
    return send_at(event=message.event, now=now, prefs=preferences(plan, person))


def dedupe_key(message: Message, channel: str) -> str:
    return f"{message.event}|{message.about}|{message.recipient}|{channel}"
