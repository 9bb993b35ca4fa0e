"""Queuing a check's grouped messages: one per person, listing only the items not told yet.

The check collects the groupable intents of every department it applied
(`pilotscale.core.grouping`), and this runs once at its end, in one transaction: the
items' keys go into the ledger (`notification_item`, ON CONFLICT DO NOTHING), the keys
that were new come back, and each person with new items gets one message listing them
(or the item's own message when it is their only one).
A re-run of the check finds every key there and queues nothing; an item comes back
when its own key changes (the next reminder window, another result, another visit).

Each item carries its department's phase visit, as a message about one department does
(`engine.enqueue`), so the links made at dispatch for each item are bound to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.grouping import fold, item_key
from pilotscale.core.messages import GROUPED, Message
from pilotscale.engine.enqueue import enqueue
from pilotscale.links import visit_key
from pilotscale.plan.schema import Plan
from pilotscale.store.outbox import record_items
from pilotscale.store.queries import phase_visits


def queue_grouped(
    *,
    engine: Engine,
    plan: Plan,
    program_id: int,
    department_ids: Mapping[str, int],
    items: Sequence[Message],
    check_key: str,
    now: datetime,
) -> int:
    """Record `items` and queue the grouped messages of the new ones; returns rows queued."""
    if not items:
        return 0
    with Session(engine, expire_on_commit=False) as session, session.begin():
        rows = {
            item_key(m): {
                "program_id": program_id,
                "dedupe_key": item_key(m),
                "told_in": check_key,
                "created_at": now,
            }
            for m in items
        }
        new = record_items(session=session, rows=list(rows.values()))
        grouped = fold([m for m in items if item_key(m) in new], check_key=check_key)
        if not grouped:
            return 0
        wanted = {
            department_ids[m.department]
            for m in items
            if m.department is not None and m.department in department_ids
        }
        visits = phase_visits(session=session, department_ids=wanted)
        for message in grouped:
            for item in message.context.get("items", ()) if message.event == GROUPED else ():
                found = department_ids.get(str(item.get("department", {}).get("name", "")))
                if found in visits:
                    item["visit"] = visit_key(visits[found])
        return enqueue(
            session=session,
            plan=plan,
            program_id=program_id,
            department_ids=department_ids,
            messages=grouped,
            now=now,
        )
