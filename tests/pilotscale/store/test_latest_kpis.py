"""The latest reading of a quiet KPI, on SQLite and PostgreSQL: the moment of the last
observation up to now, the mean of that last day, out-of-range values left out."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.plan.domains import domains
from pilotscale.store.latest_kpis import latest_readings
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine.helpers import apply, day, observe
from tests.plans import loaded, plan_dict


def test_the_latest_reading_and_its_day(engine: Engine) -> None:
    data = plan_dict(2)
    apply(engine, data)
    observe(engine, "d001", [0.2, 0.3], start=day(1))  # day 1, 00:00 and 01:00
    observe(engine, "d001", [0.5, 0.7], start=day(5))  # the latest day: 0.5 and 0.7
    observe(engine, "d002", [0.6], start=day(5) + timedelta(hours=3))
    observe(engine, "d002", [0.99], start=day(9))  # after `now`: not read
    observe(engine, "d002", [7.0], start=day(5) + timedelta(hours=4))  # out of range

    plan = loaded(data).plan
    with Session(engine) as session:
        ids = [d.id or 0 for d in load_view(session=session).departments]
        found = latest_readings(
            session=session,
            department_ids=ids,
            metrics=domains(plan, ["weekly_active_rate"]),
            now=day(8),
        )
        none = latest_readings(
            session=session,
            department_ids=ids,
            metrics=domains(plan, ["weekly_active_rate"]),
            now=day(0),
        )

    at, value = found["weekly_active_rate"]
    assert at == day(5) + timedelta(hours=3)
    assert at.tzinfo is not None
    assert value == pytest.approx((0.5 + 0.7 + 0.6) / 3)
    assert none == {}
    assert day(0).tzinfo == UTC
