"""Segmented training assignments and the onboarding of each department's champions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime, utcnow


class TrainingAssignmentBase(SQLModel):
    segment: str
    module_id: str
    assigned_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TrainingAssignment(TrainingAssignmentBase, table=True):
    __tablename__ = "training_assignment"
    # One assignment per person and module: re-running a phase's entry actions (or a
    # crashed run) must not assign, or remind about, the same module twice.
    __table_args__ = (
        UniqueConstraint("person_id", "module_id", name="uq_training_assignment_person_module"),
        Index("ix_training_assignment_department_id", "department_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")
    person_id: int = Field(foreign_key="person.id")


class ChampionOnboardingBase(SQLModel):
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    welcomed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A champion may decline the role, with a reason; acknowledging and declining are
    # each the champion's own answer (identity as for every recorded action).
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decline_reason: str = Field(default="", sa_type=Text)
    identity_source: str = ""
    acted_by: str = ""
    on_behalf_reason: str = Field(default="", sa_type=Text)
    os_user: str = ""


class ChampionOnboarding(ChampionOnboardingBase, table=True):
    __tablename__ = "champion_onboarding"
    __table_args__ = (
        UniqueConstraint(
            "department_id", "person_id", name="uq_champion_onboarding_department_person"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")
    person_id: int = Field(foreign_key="person.id")
