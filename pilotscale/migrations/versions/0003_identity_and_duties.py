"""Identity and separation of duties: who acted, how we know, and on whose behalf;
approvers may reject; champions may decline; barriers; single-use links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

Columns added to tables that hold rows get a server default, so existing rows read as
what they were: approvals, attested and acknowledged evidence entered at the CLI.
SQLite cannot drop a constraint in place: `approval` is rebuilt in batch mode (it has no
triggers; `transition`, which has, only gains columns, which SQLite adds in place).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def _text(name: str, default: str = "") -> sa.Column[str]:
    return sa.Column(name, sa.String(), nullable=False, server_default=default)


def _long_text(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=False, server_default="")


def upgrade() -> None:
    with op.batch_alter_table("approval") as batch:
        batch.drop_constraint("uq_approval_visit", type_="unique")
        batch.add_column(_text("decision", "approve"))
        batch.add_column(_text("identity_source", "cli"))
        batch.add_column(_text("acted_by"))
        batch.add_column(_long_text("on_behalf_reason"))
    op.create_index(
        "ix_approval_department_gate_visit",
        "approval",
        ["department_id", "gate", "phase_entered_at"],
    )

    for column in (
        _text("identity_source", "cli"),
        _text("acted_by"),
        _long_text("on_behalf_reason"),
        _text("os_user"),
    ):
        op.add_column("attestation", column)

    onboarding: tuple[sa.Column[Any], ...] = (
        sa.Column("declined_at", UTC_DATETIME, nullable=True),
        _long_text("decline_reason"),
        _text("identity_source"),
        _text("acted_by"),
        _long_text("on_behalf_reason"),
        _text("os_user"),
    )
    for column in onboarding:
        op.add_column("champion_onboarding", column)

    # Append-only: adding a column fires no UPDATE trigger, on SQLite or PostgreSQL.
    op.add_column("transition", _text("identity_source"))
    op.add_column("transition", _text("on_behalf_of"))

    op.create_table(
        "barrier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("reported_by", sa.String(), nullable=False),
        sa.Column("area", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reported_at", UTC_DATETIME, nullable=False),
        sa.Column("identity_source", sa.String(), nullable=False),
        sa.Column("acted_by", sa.String(), nullable=False),
        sa.Column("on_behalf_reason", sa.Text(), nullable=False),
        sa.Column("os_user", sa.String(), nullable=False),
        sa.Column("resolved_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name="fk_barrier_department_id_department"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_barrier"),
    )
    op.create_index("ix_barrier_department_id", "barrier", ["department_id"])

    op.create_table(
        "link_use",
        sa.Column("nonce", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("person_key", sa.String(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("used_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["department.id"], name="fk_link_use_department_id_department"
        ),
        sa.PrimaryKeyConstraint("nonce", name="pk_link_use"),
    )


def downgrade() -> None:
    op.drop_table("link_use")
    op.drop_index("ix_barrier_department_id", table_name="barrier")
    op.drop_table("barrier")
    for column in ("on_behalf_of", "identity_source"):
        op.drop_column("transition", column)
    with op.batch_alter_table("champion_onboarding") as batch:
        for column in (
            "os_user",
            "on_behalf_reason",
            "acted_by",
            "identity_source",
            "decline_reason",
            "declined_at",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("attestation") as batch:
        for column in ("os_user", "on_behalf_reason", "acted_by", "identity_source"):
            batch.drop_column(column)
    op.drop_index("ix_approval_department_gate_visit", table_name="approval")
    # 0002 knows approvals only: keep each approver's latest decision per visit (the old
    # unique key holds again), and drop it if it is a rejection (the gate is pending then).
    op.execute(
        "DELETE FROM approval WHERE id NOT IN (SELECT max(id) FROM approval "
        "GROUP BY department_id, gate, approver_key, phase_entered_at)"
    )
    op.execute("DELETE FROM approval WHERE decision = 'reject'")
    with op.batch_alter_table("approval") as batch:
        for column in ("on_behalf_reason", "acted_by", "identity_source", "decision"):
            batch.drop_column(column)
        batch.create_unique_constraint(
            "uq_approval_visit", ["department_id", "gate", "approver_key", "phase_entered_at"]
        )
