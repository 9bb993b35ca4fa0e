"""The notification outbox: every message is a row first, sent later, exactly once by key."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.core.states import NotificationStatus
from pilotscale.models.base import UTCDateTime, utcnow


def new_notification_id() -> str:
    return str(uuid.uuid4())


class NotificationBase(SQLModel):
    # event|subject|recipient|channel: the same message is never queued twice, however
    # often a flow is retried or restarted.
    dedupe_key: str
    event: str
    recipient_key: str = Field(description="Person id of the recipient.")
    channel: str = Field(description="Channel name from the plan, or 'local'.")
    subject: str = Field(description="What the message is about, e.g. 'hr/preparing'.")
    context_json: str = Field(default="{}", sa_type=Text)
    status: str = NotificationStatus.pending.value
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Notification(NotificationBase, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_notification_dedupe_key"),
        Index("ix_notification_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_notification_department_event", "department_id", "event"),
    )

    # Also sent as X-Notification-Id, so a receiver can drop a duplicate delivery.
    id: str = Field(default_factory=new_notification_id, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")


class NotificationItemBase(SQLModel):
    # event|about|recipient of one item of a grouped message (pilotscale.core.grouping):
    # an item is told once, whichever check or run finds it again.
    dedupe_key: str
    told_in: str = Field(description="The check that told it (its day, the check key).")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NotificationItem(NotificationItemBase, table=True):
    """The ledger of items told in grouped messages: one narrow row per item, so the
    outbox holds one row per person per check and the per-item cadence survives."""

    __tablename__ = "notification_item"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_notification_item_dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
