"""What gates are evaluated on: metric observations, attestations and approvals."""

from __future__ import annotations

from datetime import date, datetime

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
        # The partial days at the edges of the gates' windows (`store.fact_queries`): by time
        # alone, for every department at once. Without it PostgreSQL scans every
        # observation once per edge.
        Index("ix_metric_observation_observed_at", "observed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    department_id: int = Field(foreign_key="department.id")
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MetricDaily(SQLModel, table=True):
    """The observations of one department, metric and UTC day, added up: kept by database
    triggers on `metric_observation` (migration 0007), so every path that writes, changes
    or deletes an observation keeps it in the same transaction. Reads over windows of
    weeks add up whole days from here and read only the partial days at a window's edges
    from the observations (`store.fact_queries`).

    `total` adds only values within +-VALUE_LIMIT, as the raw aggregates do, so it cannot
    overflow; `minimum` and `maximum` cover every value, so a reader can tell whether all
    of a day's rows lie in a metric's range."""

    __tablename__ = "metric_daily"

    department_id: int = Field(primary_key=True)
    metric: str = Field(primary_key=True)
    day: date = Field(primary_key=True)
    count: int
    total: float
    minimum: float
    maximum: float


class AttestationBase(SQLModel):
    phase: str
    gate: str
    attested_by: str = Field(description="Person id of who confirmed the checklist item.")
    evidence: str = Field(default="", sa_type=Text)
    attested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How we know who attested (a core.actors.Source value), and, when an operator entered
    # it for the owner, the operator's person id and why (shown wherever it is).
    identity_source: str = "cli"
    acted_by: str = ""
    on_behalf_reason: str = Field(default="", sa_type=Text)
    os_user: str = ""


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
        description="The actor's source ('cli', 'link', 'proxy'); 'ui' only on approvals from "
        "the Prefect UI flow, since removed.",
    )
    # 'approve' or 'reject': an approver may reject, then approve in the same visit; the
    # latest decision of each approver in the visit is the one that counts.
    decision: str = "approve"
    identity_source: str = "cli"  # a core.actors.Source value
    acted_by: str = ""  # the operator's person id when entered on behalf of the approver
    on_behalf_reason: str = Field(default="", sa_type=Text)


class Approval(ApprovalBase, table=True):
    __tablename__ = "approval"
    # Not unique any more (several decisions per approver and visit): an index for the
    # lookups of a visit's decisions.
    __table_args__ = (
        Index("ix_approval_department_gate_visit", "department_id", "gate", "phase_entered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")
