"""What gates are evaluated on: metric observations, attestations and approvals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime, utcnow


class MetricObservationBase(SQLModel):
    metric: str
    value: float
    observed_at: datetime = Field(sa_type=UTCDateTime)
    # '' rather than NULL: NULLs are never equal in SQL, so a NULL would let the same
    # observation be imported twice past the unique dedupe constraint.
    segment: str = ""
    person_key: str = ""
    source: str = Field(default="import", description="'import', 'http', 'sql' or a file name.")


class MetricObservation(MetricObservationBase, table=True):
    __tablename__ = "metric_observation"
    # The dedupe constraint's index starts with (department_id, metric, observed_at), so it
    # also serves the windowed aggregates; a second index on that prefix would only slow
    # imports down.
    __table_args__ = (
        UniqueConstraint(
            "department_id",
            "metric",
            "observed_at",
            "segment",
            "person_key",
            name="uq_metric_observation_dedupe",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    department_id: int = Field(foreign_key="department.id")
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AttestationBase(SQLModel):
    phase: str
    gate: str
    attested_by: str = Field(description="Person id of who confirmed the checklist item.")
    evidence: str = Field(default="", sa_type=Text)
    attested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Attestation(AttestationBase, table=True):
    __tablename__ = "attestation"
    __table_args__ = (
        Index("ix_attestation_department_gate_at", "department_id", "gate", "attested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")


class ApprovalBase(SQLModel):
    phase: str
    gate: str
    approver_key: str = Field(description="Person id of the approver.")
    comment: str = Field(default="", sa_type=Text)
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Identifies the visit to the phase: an approval counts only while the department is
    # still in the visit it was given for, never after a rollback and a second visit.
    phase_entered_at: datetime = Field(sa_type=UTCDateTime)
    os_user: str = ""
    via: str = Field(
        default="cli",
        description="'cli'; 'ui' only on approvals from the Prefect UI flow, since removed.",
    )


class Approval(ApprovalBase, table=True):
    __tablename__ = "approval"
    __table_args__ = (
        UniqueConstraint(
            "department_id", "gate", "approver_key", "phase_entered_at", name="uq_approval_visit"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")
