"""Initial schema: program, departments, people, history, evidence, training, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written out by hand: a migration must not import the current models, which change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stored as UTC; models.base.UTCDateTime hands values back as aware UTC datetimes.
UTC_DATETIME = sa.DateTime(timezone=True)

APPEND_ONLY_MESSAGE = "transition is append-only: history is kept forever"


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _fk(column: str, table: str, referred: str, nullable: bool = False) -> list[Any]:
    return [
        sa.Column(column, sa.Integer(), nullable=nullable),
        sa.ForeignKeyConstraint(
            [column], [f"{referred}.id"], name=f"fk_{table}_{column}_{referred}"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "program",
        _id(),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("plan_sha256", sa.String(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("applied_at", UTC_DATETIME, nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_program"),
        sa.UniqueConstraint("name", name="uq_program_name"),
    )

    op.create_table(
        "department",
        _id(),
        *_fk("program_id", "department", "program"),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("phase_entered_at", UTC_DATETIME, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_check_key", sa.String(), nullable=True),
        sa.Column("removed_at", UTC_DATETIME, nullable=True),
        sa.Column("definition_sha256", sa.String(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_department"),
        sa.UniqueConstraint("program_id", "name", name="uq_department_program_name"),
    )

    op.create_table(
        "person",
        _id(),
        *_fk("program_id", "person", "program"),
        *_fk("department_id", "person", "department", nullable=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("chat", sa.String(), nullable=True),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("notify", sa.String(), nullable=False),
        sa.Column("removed_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_person"),
        sa.UniqueConstraint("program_id", "key", name="uq_person_program_key"),
    )
    op.create_index("ix_person_department_id", "person", ["department_id"])

    op.create_table(
        "person_role",
        _id(),
        *_fk("person_id", "person_role", "person"),
        *_fk("department_id", "person_role", "department", nullable=True),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_role"),
        sa.UniqueConstraint("person_id", "role", "department_id", "detail", name="uq_person_role"),
    )
    op.create_index("ix_person_role_department_id", "person_role", ["department_id"])

    op.create_table(
        "transition",
        _id(),
        *_fk("department_id", "transition", "department"),
        sa.Column("from_phase", sa.String(), nullable=True),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_phase", sa.String(), nullable=False),
        sa.Column("to_status", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTC_DATETIME, nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.Column("os_user", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transition"),
    )
    op.create_index("ix_transition_department_at", "transition", ["department_id", "at"])
    _make_append_only("transition")

    op.create_table(
        "gate_result",
        _id(),
        *_fk("department_id", "gate_result", "department"),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("gate", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("observed", sa.Float(), nullable=True),
        sa.Column("observed_text", sa.String(), nullable=False),
        sa.Column("threshold_text", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(), nullable=False),
        sa.Column("evaluated_at", UTC_DATETIME, nullable=False),
        sa.Column("check_key", sa.String(), nullable=False),
        sa.Column("run_id", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_gate_result"),
        sa.UniqueConstraint(
            "department_id", "phase", "gate", "check_key", "outcome", name="uq_gate_result_check"
        ),
    )
    op.create_index(
        "ix_gate_result_department_gate_at",
        "gate_result",
        ["department_id", "gate", "evaluated_at"],
    )

    op.create_table(
        "metric_observation",
        _id(),
        *_fk("program_id", "metric_observation", "program"),
        *_fk("department_id", "metric_observation", "department"),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("observed_at", UTC_DATETIME, nullable=False),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("person_key", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("imported_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_metric_observation"),
        # Its index also serves windowed aggregates on (department_id, metric, observed_at).
        sa.UniqueConstraint(
            "department_id",
            "metric",
            "observed_at",
            "segment",
            "person_key",
            name="uq_metric_observation_dedupe",
        ),
    )

    op.create_table(
        "attestation",
        _id(),
        *_fk("department_id", "attestation", "department"),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("gate", sa.String(), nullable=False),
        sa.Column("attested_by", sa.String(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("attested_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_attestation"),
    )
    op.create_index(
        "ix_attestation_department_gate_at",
        "attestation",
        ["department_id", "gate", "attested_at"],
    )

    op.create_table(
        "approval",
        _id(),
        *_fk("department_id", "approval", "department"),
        sa.Column("phase", sa.String(), nullable=False),
        sa.Column("gate", sa.String(), nullable=False),
        sa.Column("approver_key", sa.String(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("approved_at", UTC_DATETIME, nullable=False),
        sa.Column("phase_entered_at", UTC_DATETIME, nullable=False),
        sa.Column("os_user", sa.String(), nullable=False),
        sa.Column("via", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval"),
        sa.UniqueConstraint(
            "department_id", "gate", "approver_key", "phase_entered_at", name="uq_approval_visit"
        ),
    )

    op.create_table(
        "training_assignment",
        _id(),
        *_fk("department_id", "training_assignment", "department"),
        *_fk("person_id", "training_assignment", "person"),
        sa.Column("segment", sa.String(), nullable=False),
        sa.Column("module_id", sa.String(), nullable=False),
        sa.Column("assigned_at", UTC_DATETIME, nullable=False),
        sa.Column("due_at", UTC_DATETIME, nullable=False),
        sa.Column("completed_at", UTC_DATETIME, nullable=True),
        sa.Column("last_reminded_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_training_assignment"),
        sa.UniqueConstraint("person_id", "module_id", name="uq_training_assignment_person_module"),
    )
    op.create_index(
        "ix_training_assignment_department_id", "training_assignment", ["department_id"]
    )

    op.create_table(
        "champion_onboarding",
        _id(),
        *_fk("department_id", "champion_onboarding", "department"),
        *_fk("person_id", "champion_onboarding", "person"),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("welcomed_at", UTC_DATETIME, nullable=True),
        sa.Column("acknowledged_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_champion_onboarding"),
        sa.UniqueConstraint(
            "department_id", "person_id", name="uq_champion_onboarding_department_person"
        ),
    )

    op.create_table(
        "notification",
        sa.Column("id", sa.String(), nullable=False),
        *_fk("program_id", "notification", "program"),
        *_fk("department_id", "notification", "department", nullable=True),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("event", sa.String(), nullable=False),
        sa.Column("recipient_key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("context_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=False),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("leased_by", sa.String(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_notification"),
        sa.UniqueConstraint("dedupe_key", name="uq_notification_dedupe_key"),
    )
    op.create_index(
        "ix_notification_status_next_attempt", "notification", ["status", "next_attempt_at"]
    )


def _make_append_only(table: str) -> None:
    """Reject UPDATE and DELETE in the database itself, whoever the client is."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action} BEFORE {action.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}' USING ERRCODE = 'restrict_violation'; "
            "END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()"
        )
    else:
        raise NotImplementedError(f"no append-only trigger for {dialect}; use SQLite or PostgreSQL")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transition_no_truncate ON transition")
        op.execute("DROP TRIGGER IF EXISTS transition_no_update_delete ON transition")
        op.execute("DROP FUNCTION IF EXISTS transition_append_only()")
    for table in (
        "notification",
        "champion_onboarding",
        "training_assignment",
        "approval",
        "attestation",
        "metric_observation",
        "gate_result",
        "transition",
        "person_role",
        "person",
        "department",
        "program",
    ):
        op.drop_table(table)
