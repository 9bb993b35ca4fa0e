"""Turning message intents into outbox rows: one per (message, channel).

Routing (who is reached on which channel) and rendering live in notifications/; the
rows go in through `store.outbox.insert_rows`, in the caller's transaction, so a
message exists if and only if the change that caused it was committed.

A message about a department also stores `visit`: when the department entered the
phase it is in as the message is queued (`pilotscale.links.visit_key`). The signed
links made at dispatch are bound to that visit, so a message sent after the
department moved on carries links the web app refuses as out of date. The links
themselves are never stored (`pilotscale.engine.message_links`).

The subject people read is rendered when the message is sent (`notifications.delivery`)
or shown (`pilotscale.engine.dry_run`), not here: rendering it for every row was a
seventh of a large readiness check, for rows nobody reads before they are sent. The row
keeps a plain one (`stored_subject`) for `pilotscale outbox --json` and for a chat send
whose subject template fails.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from pilotscale.core.messages import Message
from pilotscale.links import visit_key
from pilotscale.models import NotificationStatus, new_notification_id
from pilotscale.notifications.routing import dedupe_key, routes, send_after
from pilotscale.plan.schema import Plan
from pilotscale.store.outbox import insert_rows
from pilotscale.store.queries import phase_visits


def enqueue(
    *,
    session: Session,
    plan: Plan,
    program_id: int,
    department_ids: Mapping[str, int],
    messages: Sequence[Message],
    now: datetime,
    visits: Mapping[int, datetime] | None = None,
) -> int:
    """Queue `messages` in `session`'s transaction (no commit); returns rows inserted.

    Each message becomes one row per channel its recipient is reached on. `visits`
    (department id -> when it entered its phase) spares the query when the caller has
    just written them (the readiness check).
    """
    rows: dict[str, dict[str, Any]] = {}
    # Read in the caller's transaction, so a department that has just entered a phase
    # is seen in it (the session flushes its changes before the query).
    wanted = {
        department_ids[m.department]
        for m in messages
        if m.department is not None and m.department in department_ids
    }
    if visits is None:
        visits = phase_visits(session=session, department_ids=wanted) if wanted else {}
    for message in messages:
        department_id = department_ids.get(message.department) if message.department else None
        entered = visits.get(department_id) if department_id is not None else None
        visit = {"visit": visit_key(entered)} if entered is not None else {}
        for route in routes(plan, message):
            key = dedupe_key(message, route.channel)
            if key in rows:
                continue
            context = {**message.context, **visit, "recipient": route.recipient}
            rows[key] = {
                "id": new_notification_id(),
                "program_id": program_id,
                "department_id": department_id,
                "dedupe_key": key,
                "event": message.event,
                "recipient_key": message.recipient,
                "channel": route.channel,
                "subject": stored_subject(message),
                "context_json": json.dumps(context, ensure_ascii=False, default=str),
                "status": NotificationStatus.pending.value,
                "attempts": 0,
                # Later than now while the recipient is in their quiet hours.
                "next_attempt_at": send_after(plan, message, now),
                "created_at": now,
            }
    return insert_rows(session=session, rows=list(rows.values()))


def stored_subject(message: Message) -> str:
    """The plain subject a row is stored with, e.g. 'gate held: finance:piloting:…'."""
    return f"{message.event.replace('_', ' ')}: {message.about}"
