"""Operator controls: the program's pause and resume records, and waived gates.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Two new tables, nothing existing changes: `program.paused` stays the switch the checks
read, and `program_control` says who flipped it, when and why.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _who() -> list[sa.Column[str]]:
    return [
        sa.Column("identity_source", sa.String(), nullable=False),
        sa.Column("on_behalf_of", sa.String(), nullable=False),
        sa.Column("os_user", sa.String(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "program_control",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        *_who(),
        sa.ForeignKeyConstraint(
            ["program_id"], ["program.id"], name="fk_program_control_program_id_program"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_program_control"),
    )
    op.create_index("ix_program_control_program_at", "program_control", ["program_id", "at"])
    op.create_table(
        "waiver",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("gate", sa.String(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        *_who(),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name="fk_waiver_department_id_department"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_waiver"),
    )
    op.create_index("ix_waiver_department_gate", "waiver", ["department_id", "gate"])


def downgrade() -> None:
    op.drop_index("ix_waiver_department_gate", table_name="waiver")
    op.drop_table("waiver")
    op.drop_index("ix_program_control_program_at", table_name="program_control")
    op.drop_table("program_control")
