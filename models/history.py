"""What happened to a department: phase transitions and gate results, both kept forever."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime, utcnow


class TransitionBase(SQLModel):
    # NULL only for the first row of a department (it had no phase before it was applied).
    from_phase: str | None = None
    from_status: str | None = None
    to_phase: str
    to_status: str
    event: str = Field(description="A core.phases.Event value, or 'apply', 'remove', 'restore'.")
    actor: str = Field(description="Person id, 'scheduler', or the OS user for the CLI.")
    reason: str = Field(default="", sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    run_id: str | None = Field(default=None, description="Prefect flow run id, if any.")
    os_user: str = ""
    # How the actor's identity is known (a core.actors.Source value; '' for the scheduler
    # and for rows older than identities), and whose action it was when an operator acted
    # on someone's behalf (`actor` is then the operator).
    identity_source: str = ""
    on_behalf_of: str = ""


class Transition(TransitionBase, table=True):
    """Append-only: the migration installs triggers that reject UPDATE and DELETE."""

    __tablename__ = "transition"
    __table_args__ = (Index("ix_transition_department_at", "department_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")


class GateResultRecordBase(SQLModel):
    phase: str
    gate: str
    kind: str
    outcome: str = Field(description="A core.states.Outcome value: 'pass', 'fail', 'pending'.")
    observed: float | None = None
    observed_text: str = ""
    threshold_text: str = ""
    reason: str = Field(default="", sa_type=Text)
    owner: str = ""
    evaluated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The readiness check's day: the same check run twice records each outcome once.
    check_key: str = ""
    run_id: str | None = None


class GateResultRecord(GateResultRecordBase, table=True):
    __tablename__ = "gate_result"
    __table_args__ = (
        Index("ix_gate_result_department_gate_at", "department_id", "gate", "evaluated_at"),
        UniqueConstraint(
            "department_id", "phase", "gate", "check_key", "outcome", name="uq_gate_result_check"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")
