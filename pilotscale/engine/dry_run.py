"""What a readiness check or a rollout would do now, with nothing changed.

The real code runs, not a model of it: every session it opens joins one outer
transaction (a Session bound to a connection that is already in a transaction does not
commit it), and that transaction is rolled back at the end. So the decisions, the
transitions and the messages shown are exactly what the command would write; the store
is left as it was, and no Prefect run, event or message leaves the process. On SQLite
the store's write lock is held while the dry run works (seconds at 1,000 departments).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Engine, select
from sqlmodel import col

from pilotscale.models import Notification
from pilotscale.notifications.render import TemplateProblem, configured_renderer
from pilotscale.store.tables import table_of

T = TypeVar("T")


@dataclass(frozen=True)
class WouldSend:
    event: str
    recipient: str
    channel: str
    subject: str


@dataclass(frozen=True)
class DryRun(Generic[T]):
    result: T
    messages: list[WouldSend]


def dry_run(*, engine: Engine, now: datetime, act: Callable[[Engine], T]) -> DryRun[T]:
    """`act(bound)` with `bound` in place of the engine, then everything rolled back.
    Messages are the outbox rows `act` queued (created at `now`)."""
    table = table_of(Notification)
    c = table.c
    queued_now = select(c.id).where(c.created_at == now)
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            before = set(connection.execute(queued_now).scalars())
            # A Connection stands in for the Engine: Session(bind) accepts either, and the
            # engine functions use the engine only to open sessions.
            result = act(cast(Engine, connection))
            rows = connection.execute(
                select(c.id, c.event, c.recipient_key, c.channel, c.subject, c.context_json)
                .where(c.created_at == now)
                .order_by(c.event, c.recipient_key, col(Notification.id))
            ).all()
        finally:
            outer.rollback()
    renderer = configured_renderer()
    messages = [
        WouldSend(event, recipient, channel, _subject(renderer, event, subject, context))
        for id_, event, recipient, channel, subject, context in rows
        if id_ not in before
    ]
    return DryRun(result, messages)


def _subject(renderer: Any, event: str, stored: str, context_json: str) -> str:
    """The subject as it would be sent: rows store a plain one (`engine.enqueue`)."""
    try:
        return str(renderer.subject(event, json.loads(context_json)))
    except TemplateProblem:
        return stored
