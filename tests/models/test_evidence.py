"""The unique keys that make imports and approvals idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pilotscale.models import Approval, MetricObservation
from pilotscale.store.fact_queries import DepartmentRef
from pilotscale.store.people_queries import load_people_side
from tests.models.helpers import NOW, make_department


def _observation(program_id: int, department_id: int, **overrides: object) -> MetricObservation:
    values: dict[str, object] = {
        "program_id": program_id,
        "department_id": department_id,
        "metric": "weekly_active_rate",
        "value": 0.4,
        "observed_at": NOW,
        "imported_at": NOW,
    }
    values.update(overrides)
    return MetricObservation.model_validate(values)


def test_the_same_observation_cannot_be_imported_twice(engine: Engine) -> None:
    department = make_department(engine)
    assert department.id is not None
    with Session(engine) as session:
        session.add(_observation(department.program_id, department.id))
        session.commit()

    with Session(engine) as session:
        # A re-import of the same export: same department, metric, time, segment and person.
        session.add(_observation(department.program_id, department.id, value=0.9))
        with pytest.raises(IntegrityError):
            session.commit()

    with Session(engine) as session:
        assert [o.value for o in session.exec(select(MetricObservation))] == [0.4]


@pytest.mark.parametrize(
    "overrides",
    [
        {"observed_at": NOW + timedelta(days=7)},
        {"segment": "power"},
        {"person_key": "ana.ruiz"},
        {"metric": "answer_rating"},
    ],
    ids=["later", "segment", "person", "metric"],
)
def test_observations_that_differ_in_the_key_are_all_kept(
    engine: Engine, overrides: dict[str, object]
) -> None:
    department = make_department(engine)
    assert department.id is not None
    with Session(engine) as session:
        session.add(_observation(department.program_id, department.id))
        session.add(_observation(department.program_id, department.id, **overrides))
        session.commit()
        assert len(session.exec(select(MetricObservation)).all()) == 2


def test_an_approver_may_decide_again_in_a_visit_and_only_the_latest_counts(
    engine: Engine,
) -> None:
    # Since 0003 an approver may reject, then approve (or change their mind) in one visit:
    # the store keeps every decision as history, the reader counts each approver once.
    department = make_department(engine)
    assert department.id is not None

    def decision(kind: str, *, visit: timedelta, hours: int) -> Approval:
        assert department.id is not None
        return Approval(
            department_id=department.id,
            phase="planned",
            gate="executive-go-ahead",
            approver_key="elena.garcia",
            decision=kind,
            approved_at=NOW + visit + timedelta(hours=hours),
            phase_entered_at=NOW + visit,
        )

    with Session(engine) as session:
        session.add(decision("approve", visit=timedelta(days=-30), hours=1))  # an earlier visit
        session.add(decision("reject", visit=timedelta(0), hours=1))
        session.add(decision("approve", visit=timedelta(0), hours=2))
        session.add(decision("reject", visit=timedelta(0), hours=3))
        session.commit()
        assert len(session.exec(select(Approval)).all()) == 4
        ref = DepartmentRef(department.id, "hr", "planned", NOW)
        side = load_people_side(session=session, departments=[ref], now=NOW + timedelta(days=1))
        assert [(d.approver, d.decision) for d in side["hr"].decisions] == [
            ("elena.garcia", "reject")
        ]
        # As of an earlier moment, the approval then current is the one that counts.
        side = load_people_side(
            session=session, departments=[ref], now=NOW + timedelta(hours=2, minutes=30)
        )
        assert [(d.approver, d.decision) for d in side["hr"].decisions] == [
            ("elena.garcia", "approve")
        ]
