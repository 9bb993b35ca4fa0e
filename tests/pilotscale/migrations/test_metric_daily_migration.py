"""Migration 0005 fills the daily roll-up from the observations a store already holds, and
its triggers keep it from then on; the downgrade takes both away (both databases)."""

from __future__ import annotations

import random

from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel

from pilotscale.db import current_revision, downgrade, get_engine, upgrade
from pilotscale.migrations import HEAD_REVISION
from pilotscale.models import MetricObservation
from pilotscale.store.insert import insert_ignore
from tests.pilotscale.migrations.test_migrations import _schema_diffs
from tests.pilotscale.store.test_metric_daily import (
    _departments,
    _random_rows,
    assert_same_roll_up,
    rolled,
)


def test_0007_fills_the_roll_up_from_stored_observations_and_keeps_it(store_url: str) -> None:
    # The plan applied at the head (apply writes 0007's columns), then the store taken back
    # to 0006, where observations are written without a roll-up.
    engine = get_engine(store_url)
    departments = _departments(engine, 3)
    downgrade(engine=engine, revision="0006")
    assert "metric_daily" not in inspect(engine).get_table_names()
    rng = random.Random(5)
    with Session(engine) as session, session.begin():
        insert_ignore(
            session=session, model=MetricObservation, rows=_random_rows(departments, rng, 800)
        )

    upgrade(engine=engine)

    assert current_revision(engine=engine) == HEAD_REVISION
    assert _schema_diffs(engine, SQLModel.metadata) == []
    assert len(rolled(engine)) > 100
    assert_same_roll_up(engine)
    with Session(engine) as session, session.begin():  # and the triggers keep it
        insert_ignore(
            session=session, model=MetricObservation, rows=_random_rows(departments, rng, 200)
        )
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM metric_observation WHERE id % 3 = 0"))
    assert_same_roll_up(engine)

    downgrade(engine=engine, revision="0006")

    assert "metric_daily" not in inspect(engine).get_table_names()
    with Session(engine) as session, session.begin():  # no trigger left behind
        insert_ignore(
            session=session, model=MetricObservation, rows=_random_rows(departments, rng, 50)
        )
