"""People from the plan and the roles they hold, program-wide or for one department."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime


class PersonBase(SQLModel):
    key: str = Field(description="The plan's person id, e.g. 'ana.ruiz'.")
    name: str
    email: str
    chat: str | None = None
    # power, casual or none (not a trainee): the effective one, see pilotscale.core.roster.
    segment: str = "casual"
    notify: str = "email"
    # 'plan' while the plan lists the person (its fields win), 'roster' for a person only
    # the HR roster knows.
    source: str = "plan"
    # On the last imported roster. A roster person who leaves it is deactivated
    # (removed_at set), never deleted; one who comes back is active again.
    in_roster: bool = False
    manager: str | None = None
    locale: str | None = None
    # Roles the HR export gives (comma-separated, informative: the plan's roles decide).
    roster_roles: str = ""
    # The roster's message preferences; None: not said there (the plan's, else the
    # program's apply; pilotscale.core.quiet_hours). IANA zone, 'HH:MM-HH:MM', mon..sun.
    timezone: str | None = None
    quiet_hours: str | None = None
    digest_day: str | None = None
    # The roster's `notify`, for every person on it: a plan person's `notify` column is
    # the plan's (else email), and the roster's fills in where the plan says none
    # (pilotscale.store.roster_plan). None: the roster does not say.
    roster_notify: str | None = None


class Person(PersonBase, table=True):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("program_id", "key", name="uq_person_program_key"),
        Index("ix_person_department_id", "department_id"),
        # The denominators: a department's active people by segment.
        Index("ix_person_department_active_segment", "department_id", "removed_at", "segment"),
        Index("ix_person_program_email", "program_id", "email"),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    # Soft delete: approvals, attestations and notifications keep pointing at the person.
    # NULL is "active": only active people count in a department's figures.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PersonRoleBase(SQLModel):
    role: str
    # E.g. the support area ('technical', ...) of a support owner, or 'program' for the
    # program-wide sponsor and lead; '' when there is nothing to add.
    detail: str = ""


class PersonRole(PersonRoleBase, table=True):
    """Derived from the plan on every apply (rows are replaced, not soft-deleted)."""

    __tablename__ = "person_role"
    __table_args__ = (
        UniqueConstraint("person_id", "role", "department_id", "detail", name="uq_person_role"),
        Index("ix_person_role_department_id", "department_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    # NULL for roles that are not about one department (a declared role, the program lead).
    department_id: int | None = Field(default=None, foreign_key="department.id")
