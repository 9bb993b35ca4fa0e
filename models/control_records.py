"""Operator controls recorded with who did them: the program's pauses and resumes, and
the gates a lead waived for a department until a date. Both kept forever."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime, utcnow


class ProgramControlBase(SQLModel):
    event: str = Field(description="'pause' or 'resume'.")
    actor: str = Field(description="Person id of who did it (the operator, on behalf).")
    reason: str = Field(sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # As on transitions: how the actor's identity is known, whose action it was when an
    # operator acted on someone's behalf, and the operating-system user.
    identity_source: str = ""
    on_behalf_of: str = ""
    os_user: str = ""


class ProgramControl(ProgramControlBase, table=True):
    __tablename__ = "program_control"
    __table_args__ = (Index("ix_program_control_program_at", "program_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    program_id: int = Field(foreign_key="program.id")


class WaiverBase(SQLModel):
    gate: str
    phase: str = Field(description="The department's phase when the gate was waived.")
    until: datetime = Field(sa_type=UTCDateTime, description="The gate counts again from then.")
    reason: str = Field(sa_type=Text)
    actor: str = Field(description="Person id of who waived it (the operator, on behalf).")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    identity_source: str = ""
    on_behalf_of: str = ""
    os_user: str = ""


class Waiver(WaiverBase, table=True):
    __tablename__ = "waiver"
    __table_args__ = (Index("ix_waiver_department_gate", "department_id", "gate"),)

    id: int | None = Field(default=None, primary_key=True)
    department_id: int = Field(foreign_key="department.id")
