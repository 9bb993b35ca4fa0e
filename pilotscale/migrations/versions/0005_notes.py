"""Lessons learned: a note per lesson, with who wrote it and how we know.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04

A new table only: nothing existing changes, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("written_by", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("identity_source", sa.String(), nullable=False),
        sa.Column("acted_by", sa.String(), nullable=False),
        sa.Column("on_behalf_reason", sa.Text(), nullable=False),
        sa.Column("os_user", sa.String(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name="fk_note_department_id_department"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_note"),
    )
    op.create_index("ix_note_department_id", "note", ["department_id"])


def downgrade() -> None:
    op.drop_index("ix_note_department_id", table_name="note")
    op.drop_table("note")
