"""The prepared executemany insert writes what the SQLAlchemy insert writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.models import GateResultRecord
from pilotscale.store.insert import insert_ignore, insert_ignore_many
from tests.notifications.helpers import NOW, applied


def results(department_id: int, check_key: str) -> list[dict[str, Any]]:
    # observed_text, threshold_text, reason and owner left out: their defaults apply.
    return [
        {
            "department_id": department_id,
            "phase": "piloting",
            "gate": f"gate-{n}",
            "kind": "metric",
            "outcome": "pending" if n % 2 else "pass",
            "observed": None if n % 2 else n / 3,
            "evaluated_at": NOW + timedelta(microseconds=n),
            "check_key": check_key,
            "run_id": None,
        }
        for n in range(5)
    ]


def stored(engine: Engine, check_key: str) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        rows = session.exec(
            select(GateResultRecord)
            .where(col(GateResultRecord.check_key) == check_key)
            .order_by(col(GateResultRecord.gate))
        ).all()
        return [
            (r.department_id, r.gate, r.outcome, r.observed, r.evaluated_at, r.observed_text)
            for r in rows
        ]


def test_it_writes_the_rows_the_orm_insert_writes_and_counts_only_new_ones(
    engine: Engine,
) -> None:
    _, departments = applied(engine)
    dept = departments["finance"]
    with Session(engine) as session, session.begin():
        core = insert_ignore(session=session, model=GateResultRecord, rows=results(dept, "a"))
        many = insert_ignore_many(session=session, model=GateResultRecord, rows=results(dept, "b"))
        again = insert_ignore_many(
            session=session, model=GateResultRecord, rows=results(dept, "b")[:3]
        )

    assert (core, many, again) == (5, 5, 0)
    assert stored(engine, "b") == stored(engine, "a")
    assert stored(engine, "b")[1][-1] == ""  # a default filled in
    # Written as the column type writes them: equal moments compare equal in SQL.
    with Session(engine) as session:
        found = session.exec(
            select(GateResultRecord.gate).where(col(GateResultRecord.evaluated_at) == NOW)
        ).all()
    assert sorted(found) == ["gate-0", "gate-0"]
