"""A department's mini-pilot state: its phase, side status and optimistic-lock version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.core.states import Status
from pilotscale.models.base import UTCDateTime, utcnow


class DepartmentBase(SQLModel):
    name: str
    title: str
    wave: int
    headcount: int
    phase: str
    status: str = Status.active.value


class Department(DepartmentBase, table=True):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("program_id", "name", name="uq_department_program_name"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    # Every change to the row is `UPDATE ... WHERE id = ? AND version = ?` that bumps it,
    # so two schedulers (or a scheduler and a person at the CLI) never both win.
    version: int = 1
    phase_entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    consecutive_failures: int = 0
    # The readiness check that last counted toward consecutive_failures: a retried or
    # re-run check with the same key must not count the same failure twice.
    last_check_key: str | None = None
    # Soft delete: a department leaves the plan but its history never leaves the store.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Hash of this department's section of the plan, to tell which departments changed.
    definition_sha256: str
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
