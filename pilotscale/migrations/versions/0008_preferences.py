"""People's message preferences from the HR roster: time zone, quiet hours, digest day.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Three nullable columns on `person`: NULL is "not said" (the plan's, else the program's
value applies), so existing rows need no filling. `notify` was already there.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("timezone", "quiet_hours", "digest_day")


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
