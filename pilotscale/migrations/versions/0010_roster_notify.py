"""The roster's `notify` kept beside the plan's.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

A plan person's `notify` column holds the plan's choice (else email), so the roster's
had nowhere to go and was ignored for everyone the plan lists. One nullable column:
NULL is "the roster does not say", which is true of every row until the next roster
import, so existing rows need no filling.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("roster_notify", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("roster_notify")
