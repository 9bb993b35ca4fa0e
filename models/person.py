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
    segment: str = "casual"
    notify: str = "email"


class Person(PersonBase, table=True):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("program_id", "key", name="uq_person_program_key"),
        Index("ix_person_department_id", "department_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    # Soft delete: approvals, attestations and notifications keep pointing at the person.
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
