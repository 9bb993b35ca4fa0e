"""The alert a program lead gets when notifications could not be delivered."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pilotscale.core.messages import Message
from pilotscale.plan.schema import Plan

EVENT = "delivery_failure"
LISTED = 50  # the alert lists this many; the rest are counted


@dataclass(frozen=True)
class DeadMessage:
    id: str
    event: str
    recipient: str
    channel: str
    attempts: int
    last_error: str | None
    created_at: datetime


def delivery_failure(plan: Plan, *, dead: Sequence[DeadMessage], now: datetime) -> Message:
    """One alert to the lead for a batch of dead messages (never about an alert).

    `about` is derived from the dead ids, so the same batch alerts once however often
    the dispatcher that found it is retried.
    """
    ids = sorted(m.id for m in dead)
    about = "dead:" + hashlib.sha256("\n".join(ids).encode()).hexdigest()[:16]
    listed = sorted(dead, key=lambda m: (m.created_at, m.id))[:LISTED]
    context = {
        "program": {"name": plan.program.name, "title": plan.program.title},
        "as_of": now.isoformat(),
        "count": len(dead),
        "more": max(0, len(dead) - LISTED),
        "dead": [
            {
                "id": m.id,
                "event": m.event,
                "recipient": m.recipient,
                "channel": m.channel,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "created_at": m.created_at.isoformat(),
            }
            for m in listed
        ],
    }
    return Message(EVENT, plan.program.lead, about, None, context)
