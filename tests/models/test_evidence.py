"""The unique keys that make imports and approvals idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pilotscale.models import Approval, MetricObservation
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


def test_an_approver_counts_once_per_visit_to_a_phase(engine: Engine) -> None:
    department = make_department(engine)
    assert department.id is not None

    def approval(visit: timedelta) -> Approval:
        assert department.id is not None
        return Approval(
            department_id=department.id,
            phase="scaling",
            gate="executive-go-ahead",
            approver_key="elena.garcia",
            approved_at=NOW + visit + timedelta(hours=1),
            phase_entered_at=NOW + visit,
        )

    with Session(engine) as session:
        session.add(approval(timedelta(0)))
        session.commit()
        session.add(approval(timedelta(0)))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # After a rollback and a second visit to the phase, the approver must approve again.
        session.add(approval(timedelta(days=30)))
        session.commit()
        assert len(session.exec(select(Approval)).all()) == 2
