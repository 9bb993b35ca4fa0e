"""The notification outbox: rows written with the change that causes them, then claimed,
sent and settled by the dispatcher.

Rows (built, routed and rendered above, in pilotscale.engine.enqueue) are inserted with
ON CONFLICT DO NOTHING on the dedupe key, inside the caller's transaction: the message
exists if and only if the change that caused it was committed, and a re-run queues
nothing twice. Claiming
marks due rows `sending` under a lease in a single statement (FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite's single writer makes one UPDATE atomic), so two
dispatchers never take the same row; a dispatcher that dies leaves rows that the next
run takes again, with the same notification id: at once when it can tell the holder is
gone (`reclaim_from`), otherwise once the lease expires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    and_,
    bindparam,
    func,
    or_,
    select,
    update,
)
from sqlmodel import Session, col

from pilotscale.core.messages import Job
from pilotscale.models import Notification, NotificationItem, NotificationStatus
from pilotscale.store.insert import insert_ignore_many, inserted_values
from pilotscale.store.tables import table_of

TABLE = table_of(Notification)
RETRYABLE = (NotificationStatus.pending.value, NotificationStatus.uncertain.value)
MAX_ERROR = 2000  # characters of last_error kept


# --------------------------------------------------------------------------- insert


def insert_rows(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert outbox rows in `session`'s transaction (no commit); returns rows inserted.

    A row whose dedupe key is already there is skipped, so a re-run queues nothing twice.
    Rows are built above the store (`pilotscale.engine.enqueue`).
    """
    return insert_ignore_many(session=session, model=Notification, rows=list(rows))


# --------------------------------------------------------------------------- claim


def lease_holders(*, engine: Engine, now: datetime) -> dict[str, tuple[int, datetime]]:
    """Holders of unexpired leases: (rows being sent, latest lease end) by holder."""
    c = TABLE.c
    statement = (
        select(c.leased_by, func.count(), func.max(c.lease_until))
        .where(c.status == NotificationStatus.sending.value, c.lease_until > now)
        .group_by(c.leased_by)
    )
    with engine.connect() as connection:
        return {
            str(holder): (int(count), until)
            for holder, count, until in connection.execute(statement)
            if holder is not None
        }


def claim(
    *,
    engine: Engine,
    now: datetime,
    limit: int,
    lease_seconds: float,
    worker_id: str,
    reclaim_from: Sequence[str] = (),
) -> list[Job]:
    """Lease up to `limit` due rows to `worker_id` and commit; returns what was claimed.

    Due: pending or uncertain with next_attempt_at <= now, or sending with an expired
    lease, or sending under a holder in `reclaim_from` (a process known to be gone).
    Each claim counts as an attempt.
    """
    c = TABLE.c
    sending = c.status == NotificationStatus.sending.value
    abandoned = c.lease_until <= now
    if reclaim_from:
        abandoned = or_(abandoned, c.leased_by.in_(list(reclaim_from)))
    due = or_(
        and_(c.status.in_(RETRYABLE), c.next_attempt_at <= now),
        and_(sending, abandoned),
    )
    with engine.begin() as connection:
        candidates = select(c.id).where(due).order_by(c.next_attempt_at, c.id).limit(limit)
        if connection.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        statement = (
            update(TABLE)
            # `due` again: on SQLite the subquery and the update are one atomic statement,
            # and on PostgreSQL a row must still be due once its lock is taken.
            .where(c.id.in_(candidates.scalar_subquery()), due)
            .values(
                status=NotificationStatus.sending.value,
                lease_until=now + timedelta(seconds=lease_seconds),
                leased_by=worker_id,
                attempts=c.attempts + 1,
            )
            # In Job's field order, the context still JSON.
            .returning(
                c.id,
                c.program_id,
                c.event,
                c.recipient_key,
                c.channel,
                c.subject,
                c.context_json,
                c.created_at,
                c.attempts,
            )
        )
        rows = connection.execute(statement)
        return [
            Job(id_, program, event, recipient, channel, subject, json.loads(context), at, tries)
            for id_, program, event, recipient, channel, subject, context, at, tries in rows
        ]


# --------------------------------------------------------------------------- settle


@dataclass(frozen=True)
class Settlement:
    id: str
    attempts: int  # the claim's attempts, so a stale sender cannot settle a newer claim
    status: str
    error: str | None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None


def settle(*, engine: Engine, worker_id: str, settlements: Sequence[Settlement]) -> int:
    """Record the outcome of sends in one transaction; returns the rows updated.

    Only rows still leased to this worker under the same claim are changed: if the
    lease expired and another dispatcher took the row, its result wins.
    """
    if not settlements:
        return 0
    c = TABLE.c
    statement = (
        update(TABLE)
        .where(
            c.id == bindparam("b_id"),
            c.attempts == bindparam("b_attempts"),
            c.leased_by == bindparam("b_worker"),
            c.status == NotificationStatus.sending.value,
        )
        .values(
            status=bindparam("b_status"),
            last_error=bindparam("b_error"),
            next_attempt_at=func.coalesce(
                bindparam("b_next", type_=c.next_attempt_at.type), c.next_attempt_at
            ),
            sent_at=bindparam("b_sent", type_=c.sent_at.type),
            lease_until=None,
            leased_by=None,
        )
    )
    params = [
        {
            "b_id": s.id,
            "b_attempts": s.attempts,
            "b_worker": worker_id,
            "b_status": s.status,
            "b_error": s.error[:MAX_ERROR] if s.error else None,
            "b_next": s.next_attempt_at,
            "b_sent": s.sent_at,
        }
        for s in settlements
    ]
    with engine.begin() as connection:
        result = connection.execute(statement, params)
        return max(result.rowcount, 0)


# --------------------------------------------------------------------------- operators


def status_counts(*, connection: Connection | Session) -> dict[str, int]:
    c = TABLE.c
    rows = connection.execute(select(c.status, func.count()).group_by(c.status))
    return {str(status): int(count) for status, count in rows}


def waiting(*, connection: Connection | Session, now: datetime) -> tuple[int, datetime | None]:
    """Messages held back, not failed: never tried and not due until later (a recipient's
    quiet hours or digest day, `pilotscale.core.quiet_hours`); how many, and the first
    one's time. A retry after a failure has attempts, so it is not counted here."""
    c = TABLE.c
    count, first = connection.execute(
        select(func.count(), func.min(c.next_attempt_at)).where(
            c.status == NotificationStatus.pending.value, c.attempts == 0, c.next_attempt_at > now
        )
    ).one()
    return int(count), first


def is_waiting(row: Notification, now: datetime) -> bool:
    """The row as `waiting` counts it."""
    return (
        row.status == NotificationStatus.pending.value
        and row.attempts == 0
        and row.next_attempt_at is not None
        and row.next_attempt_at > now
    )


def list_rows(
    *, session: Session, statuses: Sequence[str] | None = None, limit: int = 100
) -> list[Notification]:
    """Rows newest first, optionally only some statuses."""
    query = select(Notification).order_by(col(Notification.created_at).desc(), col(Notification.id))
    if statuses:
        query = query.where(col(Notification.status).in_(list(statuses)))
    return list(session.scalars(query.limit(limit)))


def find(*, session: Session, prefix: str) -> list[Notification]:
    """Rows whose id starts with `prefix` (the table shows the first 8 characters)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    query = select(Notification).where(col(Notification.id).like(f"{escaped}%", escape="\\"))
    return list(session.scalars(query.limit(2)))


def retry(
    *, session: Session, ids: Sequence[str] | None = None, dead: bool = False, now: datetime
) -> int:
    """Queue rows again now with a fresh attempt count: the given ids, or every dead row.

    Sent rows and rows being sent are never touched (that would risk a duplicate).
    """
    c = TABLE.c
    statuses = (
        [NotificationStatus.dead.value] if dead else [*RETRYABLE, NotificationStatus.dead.value]
    )
    condition: ColumnElement[bool] = c.status.in_(statuses)
    if ids is not None:
        condition = and_(condition, c.id.in_(list(ids)))
    statement = (
        update(TABLE)
        .where(condition)
        .values(status=NotificationStatus.pending.value, attempts=0, next_attempt_at=now)
    )
    result = cast(CursorResult[Any], session.execute(statement))
    return max(result.rowcount, 0)


# --------------------------------------------------------------------------- told items


def record_items(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> set[str]:
    """Record the items of grouped messages (`notification_item` rows) in `session`'s
    transaction; returns the dedupe keys that were new. One statement for the batch."""
    return set(
        inserted_values(session=session, model=NotificationItem, rows=rows, column="dedupe_key")
    )
