"""The ledger of items told in grouped messages (one message per person per check).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

A readiness check now sends each person one message listing their held gates, stuck
gates and pending approvals (`pilotscale.core.grouping`) instead of one per item. Each
item keeps its own cadence through its key in `notification_item`: the check inserts
the keys it found (ON CONFLICT DO NOTHING) and lists only those that were new.

A new table only: nothing existing changes, on SQLite or PostgreSQL. Items queued
before this revision as messages of their own are not in the ledger; the first check
after the upgrade lists them once more, at most once per person.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("told_in", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name="fk_notification_item_program_id_program"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_notification_item"),
        sa.UniqueConstraint("dedupe_key", name="uq_notification_item_dedupe_key"),
    )


def downgrade() -> None:
    op.drop_table("notification_item")
