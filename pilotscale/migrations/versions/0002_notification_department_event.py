"""Index the outbox by department and event.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

A readiness check asks, for every department waiting on an approval, when its
approvers were first asked: without this index each question scanned the whole outbox,
which grows with every check.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_notification_department_event", "notification", ["department_id", "event"]
    )


def downgrade() -> None:
    op.drop_index("ix_notification_department_event", table_name="notification")
