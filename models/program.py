"""The program: one row per applied plan, holding the plan itself for every other machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from pilotscale.models.base import UTCDateTime, utcnow


class ProgramBase(SQLModel):
    name: str
    title: str
    timezone: str = "UTC"


class Program(ProgramBase, table=True):
    __tablename__ = "program"
    __table_args__ = (UniqueConstraint("name", name="uq_program_name"),)

    id: int | None = Field(default=None, primary_key=True)
    # The applied plan as canonical JSON: flows on other machines read the plan from here,
    # never from a YAML file that may only exist on the lead's laptop.
    plan_json: str = Field(sa_type=Text)
    plan_sha256: str
    # The same plan less the people who own no gate (`store.ownerplan`), written with it:
    # what `status` and the report read. None on stores applied before 0007 (read from
    # plan_json then, until the next apply).
    owners_plan_json: str | None = Field(default=None, sa_type=Text)
    paused: bool = False
    # Fingerprint of the last imported roster (None: no roster, the plan's headcounts count).
    roster_sha256: str | None = None
    roster_imported_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
