"""The HR roster: where a person comes from, whether they are on the roster, and the
program's last roster import.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

Existing people came from the plan: `source` 'plan', not on a roster. Denominators read
a department's active people by segment, hence the (department, removed_at, segment)
index; the import matches people by email, hence (program, email).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("source", sa.String(), nullable=False, server_default="plan"))
        batch.add_column(
            sa.Column("in_roster", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("manager", sa.String(), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(), nullable=True))
        batch.add_column(sa.Column("roster_roles", sa.String(), nullable=False, server_default=""))
    # The models carry no server defaults: drop them once existing rows are filled.
    with op.batch_alter_table("person") as batch:
        batch.alter_column("source", server_default=None)
        batch.alter_column("in_roster", server_default=None)
        batch.alter_column("roster_roles", server_default=None)
    op.create_index(
        "ix_person_department_active_segment", "person", ["department_id", "removed_at", "segment"]
    )
    op.create_index("ix_person_program_email", "person", ["program_id", "email"])
    with op.batch_alter_table("program") as batch:
        batch.add_column(sa.Column("roster_sha256", sa.String(), nullable=True))
        batch.add_column(sa.Column("roster_imported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("program") as batch:
        batch.drop_column("roster_imported_at")
        batch.drop_column("roster_sha256")
    op.drop_index("ix_person_program_email", table_name="person")
    op.drop_index("ix_person_department_active_segment", table_name="person")
    with op.batch_alter_table("person") as batch:
        for column in ("roster_roles", "locale", "manager", "in_roster", "source"):
            batch.drop_column(column)
