"""A check finds the newcomers to train (`engine.check._newcomers`): active trainees with
nothing assigned, in a segment their department's phases have delivered so far, and
nobody else: not in a department whose phases delivered no training yet, not in a
segment still to come, not someone who left. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.engine.check import prepare_check
from pilotscale.models import Department, Person
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict


def _joined(engine: Engine, key: str, department: str, segment: str, *, left: bool = False) -> None:
    """A person the roster brought in after the department's training was delivered."""
    with Session(engine) as session, session.begin():
        row = session.exec(select(Department).where(Department.name == department)).one()
        session.add(
            Person(
                program_id=row.program_id,
                key=key,
                name=key.title(),
                email=f"{key}@example.com",
                department_id=row.id,
                segment=segment,
                source="roster",
                in_roster=True,
                removed_at=h.day(3) if left else None,
            )
        )


def test_only_delivered_segments_of_started_departments_count(engine: Engine) -> None:
    # d001 piloting (its phases delivered power training; casual comes with scaling),
    # d002 preparing (no training yet), d003 never started.
    h.into_piloting(engine, plan_dict(3), departments=("d001",))
    h.start(engine, ["d002"], now=h.day(3))
    for key, department, segment in (
        ("ana", "d001", "power"),
        ("bo", "d001", "casual"),
        ("cy", "d002", "power"),
        ("di", "d003", "power"),
        ("eve", "d001", "none"),
    ):
        _joined(engine, key, department, segment)
    _joined(engine, "fay", "d001", "power", left=True)

    prepared = prepare_check(engine=engine, now=h.day(4) + timedelta(hours=1))

    found = {name: [(n.key, n.segment) for n in rows] for name, rows in prepared.newcomers.items()}
    assert found == {"d001": [("ana", "power")]}
