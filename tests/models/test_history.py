"""Transitions are kept forever: the database itself refuses to change or delete them."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from pilotscale.models import GateResultRecord, Transition
from tests.models.helpers import NOW, make_department


def _one_transition(engine: Engine) -> int:
    department = make_department(engine)
    assert department.id is not None
    with Session(engine) as session:
        row = Transition(
            department_id=department.id,
            to_phase="planned",
            to_status="active",
            event="apply",
            actor="lead",
            reason="initial phase from plan",
            at=NOW,
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


@pytest.mark.parametrize(
    "statement",
    ["UPDATE transition SET actor = 'someone else'", "DELETE FROM transition"],
    ids=["update", "delete"],
)
def test_transition_rejects_update_and_delete(engine: Engine, statement: str) -> None:
    _one_transition(engine)

    with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
        connection.rollback()

    with Session(engine) as session:
        rows = session.exec(select(Transition)).all()
    assert [(r.actor, r.event) for r in rows] == [("lead", "apply")]


def test_transition_rejects_changes_made_through_the_orm(engine: Engine) -> None:
    transition_id = _one_transition(engine)

    with Session(engine) as session:
        row = session.get(Transition, transition_id)
        assert row is not None
        row.reason = "rewritten history"
        session.add(row)
        with pytest.raises(DBAPIError, match="append-only"):
            session.commit()


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_truncate_is_rejected_on_postgres(engine: Engine) -> None:
    _one_transition(engine)
    with engine.connect() as connection:
        with pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text("TRUNCATE transition CASCADE"))
        connection.rollback()


def test_other_history_tables_stay_writable(engine: Engine) -> None:
    # Only transitions are append-only; gate results are pruned or corrected by design.
    department = make_department(engine)
    assert department.id is not None
    with Session(engine) as session:
        session.add(
            GateResultRecord(
                department_id=department.id,
                phase="piloting",
                gate="weekly-active",
                kind="metric",
                outcome="pending",
                evaluated_at=NOW,
            )
        )
        session.commit()
    with engine.begin() as connection:
        deleted = connection.execute(text("DELETE FROM gate_result")).rowcount
    assert deleted == 1
