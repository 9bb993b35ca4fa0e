"""What people tell the program besides gate evidence: barriers they meet, lessons they
learned (notes), and the single-use record of each signed link acted on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime, utcnow


class BarrierBase(SQLModel):
    phase: str = Field(description="The department's phase when it was reported.")
    reported_by: str = Field(description="Person id of who met the barrier.")
    area: str = Field(
        default="", description="A support area ('technical', 'adoption', ...) or ''."
    )
    text: str = Field(sa_type=Text)
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    identity_source: str = "cli"
    acted_by: str = ""
    on_behalf_reason: str = Field(default="", sa_type=Text)
    os_user: str = ""
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Barrier(BarrierBase, table=True):
    __tablename__ = "barrier"
    __table_args__ = (Index("ix_barrier_department_id", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")


class NoteBase(SQLModel):
    phase: str = Field(description="The department's phase when it was written.")
    written_by: str = Field(description="Person id of whose lesson it is.")
    text: str = Field(sa_type=Text)
    written_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    identity_source: str = "cli"
    acted_by: str = ""
    on_behalf_reason: str = Field(default="", sa_type=Text)
    os_user: str = ""


class Note(NoteBase, table=True):
    """A lesson learned in a department, kept with who wrote it (never edited)."""

    __tablename__ = "note"
    __table_args__ = (Index("ix_note_department_id", "department_id"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")


class LinkUseBase(SQLModel):
    purpose: str
    person_key: str
    used_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LinkUse(LinkUseBase, table=True):
    """One row per signed link acted on, inserted in the action's own transaction: the
    primary key makes a second use of the same link fail, with nothing recorded."""

    __tablename__ = "link_use"

    nonce: str = Field(primary_key=True)
    department_id: int | None = Field(default=None, foreign_key="department.id")
