"""The daily roll-up of metric observations (`metric_daily`, kept by the triggers of
migration 0005) and the gates' windows read from it.

- Whatever writes, changes or deletes observations (a multi-row import with duplicates, the
  ORM one row at a time, plain SQL UPDATE and DELETE), the roll-up equals the days counted
  again from the observations, on SQLite and PostgreSQL.
- On random observations, random moments (midnight, just before and after it) and random
  windows (shorter than a day, whole days, fractions), every window's figures read from
  the roll-up equal those read from every observation (`fact_queries._read(raw=True)`).
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from pilotscale.models import Department, MetricObservation
from pilotscale.plan.schema import VALUE_LIMIT
from pilotscale.store.fact_queries import _read, _Windows
from pilotscale.store.insert import insert_ignore
from tests.pilotscale.engine import helpers as h

METRICS = ("weekly_active_rate", "time_saved_hours")
START = datetime(2026, 10, 10, tzinfo=UTC)


def recounted(engine: Engine) -> dict[tuple[int, str, date], tuple[int, float, float, float]]:
    """The roll-up as it should be: every observation counted again, by UTC day."""
    with Session(engine) as session:
        rows = session.exec(select(MetricObservation)).all()
    groups: dict[tuple[int, str, date], list[float]] = defaultdict(list)
    for row in rows:
        groups[(row.department_id, row.metric, row.observed_at.astimezone(UTC).date())].append(
            row.value
        )
    return {
        key: (
            len(values),
            math.fsum(v for v in values if -VALUE_LIMIT <= v <= VALUE_LIMIT),
            min(values),
            max(values),
        )
        for key, values in groups.items()
    }


def rolled(engine: Engine) -> dict[tuple[int, str, date], tuple[int, float, float, float]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT department_id, metric, day, count, total, minimum, maximum "
                "FROM metric_daily"
            )
        ).all()
    return {
        (d, metric, day if isinstance(day, date) else date.fromisoformat(day)): (
            int(n),
            float(total),
            float(low),
            float(high),
        )
        for d, metric, day, n, total, low, high in rows
    }


def assert_same_roll_up(engine: Engine) -> None:
    want, got = recounted(engine), rolled(engine)
    assert sorted(got) == sorted(want)
    for key, (count, total, low, high) in want.items():
        assert (got[key][0], got[key][2], got[key][3]) == (count, low, high), key
        assert got[key][1] == pytest.approx(total, rel=1e-12, abs=1e-9), key


def _departments(engine: Engine, n: int) -> list[Department]:
    h.apply(engine)
    with Session(engine) as session:
        return list(session.exec(select(Department).order_by(Department.name)))[:n]


def _random_rows(
    departments: list[Department], rng: random.Random, count: int, *, days: int = 40
) -> list[dict[str, Any]]:
    """Observations over `days`, a share on exact midnights and a second either side, a few
    at one instant (per person), and values from tiny to beyond the sum's bound."""
    rows = []
    for _ in range(count):
        department = rng.choice(departments)
        day = START + timedelta(days=rng.randrange(days))
        at = rng.choice(
            [
                day,
                day - timedelta(microseconds=1),
                day + timedelta(seconds=1),
                day + timedelta(seconds=rng.randrange(86_400), microseconds=rng.randrange(10**6)),
            ]
        )
        metric = rng.choice(METRICS)
        value = (
            rng.random()
            if metric == "weekly_active_rate"
            else rng.choice([rng.uniform(0, 50), rng.uniform(-5, 5), 1e16, -3e300, 0.0])
        )
        rows.append(
            {
                "program_id": department.program_id,
                "department_id": department.id,
                "metric": metric,
                "value": value,
                "observed_at": at,
                "person_key": rng.choice(["", "a", "b"]),
            }
        )
    return rows


def test_the_roll_up_follows_inserts_updates_and_deletes(engine: Engine) -> None:
    rng = random.Random(20261204)
    departments = _departments(engine, 3)
    rows = _random_rows(departments, rng, 600)
    with Session(engine) as session, session.begin():  # one import, duplicates included
        insert_ignore(session=session, model=MetricObservation, rows=rows + rows[:50])
    assert_same_roll_up(engine)

    with Session(engine) as session, session.begin():  # the ORM, a row at a time
        for n, row in enumerate(_random_rows(departments, rng, 40)):
            session.add(MetricObservation(**{**row, "person_key": f"orm{n}"}))
            session.flush()
    assert_same_roll_up(engine)

    with engine.begin() as connection:  # a value changed, rows moved across days and away
        ids = [i for (i,) in connection.execute(text("SELECT id FROM metric_observation"))]
        rng.shuffle(ids)
        connection.execute(
            text("UPDATE metric_observation SET value = value * 2 + 1 WHERE id = :id"),
            [{"id": i} for i in ids[:30]],
        )
        for i in ids[30:60]:
            connection.execute(
                text(
                    "UPDATE metric_observation SET observed_at = :at, person_key = :p "
                    "WHERE id = :id"
                ),
                {
                    "id": i,
                    "at": _stored(engine, START + timedelta(days=rng.randrange(45))),
                    "p": f"moved{i}",
                },
            )
        connection.execute(
            text(
                "UPDATE metric_observation SET department_id = :d, person_key = :p WHERE id = :id"
            ),
            [{"id": i, "d": departments[0].id, "p": f"moved{i}"} for i in ids[60:70]],
        )
        connection.execute(
            text("DELETE FROM metric_observation WHERE id = :id"), [{"id": i} for i in ids[70:200]]
        )
    assert_same_roll_up(engine)

    with engine.begin() as connection:  # everything of one department, in one statement
        connection.execute(
            text("DELETE FROM metric_observation WHERE department_id = :d"),
            {"d": departments[1].id},
        )
    assert_same_roll_up(engine)
    assert not any(key[0] == departments[1].id for key in rolled(engine))


def test_a_rolled_back_import_leaves_the_roll_up_as_it_was(engine: Engine) -> None:
    departments = _departments(engine, 2)
    rng = random.Random(7)
    with Session(engine) as session, session.begin():
        insert_ignore(
            session=session, model=MetricObservation, rows=_random_rows(departments, rng, 100)
        )
    before = rolled(engine)

    def failing_import() -> None:
        with Session(engine) as session, session.begin():
            rows = _random_rows(departments, rng, 100)
            insert_ignore(session=session, model=MetricObservation, rows=rows)
            raise RuntimeError("the import fails half way")

    with pytest.raises(RuntimeError):
        failing_import()
    assert rolled(engine) == before


def _stored(engine: Engine, at: datetime) -> Any:
    """A datetime as a plain SQL statement must write it (SQLite: naive UTC text)."""
    if engine.dialect.name == "sqlite":
        return at.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at


# now, as an offset from START; every now is checked with every window
NOWS = [
    timedelta(days=30),  # midnight
    timedelta(days=30, microseconds=1),
    timedelta(days=30) - timedelta(microseconds=1),
    timedelta(days=31, hours=7),
    timedelta(days=33, hours=23, minutes=59, seconds=59),
    timedelta(days=45, hours=12),  # after the last observation
]
WINDOWS = [
    timedelta(hours=3),
    timedelta(hours=23, minutes=59),
    timedelta(days=1),
    timedelta(days=1, seconds=1),
    timedelta(days=2),
    timedelta(days=6, hours=5),
    timedelta(weeks=2),
    timedelta(days=17, hours=11, minutes=30),
    timedelta(weeks=4),
    timedelta(days=60),
]


def test_windows_from_the_roll_up_equal_the_windows_from_every_observation(
    engine: Engine,
) -> None:
    rng = random.Random(42)
    departments = _departments(engine, 4)
    rows = _random_rows(departments, rng, 3_000)
    # samples on the moments themselves, and on each window's start
    for offset in NOWS:
        for window in [timedelta(0), *WINDOWS]:
            rows += [
                {**row, "observed_at": START + offset - window, "person_key": "edge"}
                for row in rng.sample(rows, 2)
            ]
    with Session(engine) as session, session.begin():
        insert_ignore(session=session, model=MetricObservation, rows=rows)
    ids = sorted(d.id or 0 for d in departments)
    names = sorted(METRICS)
    compared = 0
    for offset in NOWS:
        now = START + offset
        spec = _Windows(
            by_window={w: set(METRICS) for w in WINDOWS},
            wants_last={(m, w) for m in METRICS for w in WINDOWS[::3]},
            now=now,
        )
        with Session(engine) as session:
            from_roll_up = _read(session, ids, names, spec, valid=None)
            from_rows = _read(session, ids, names, spec, valid=None, raw=True)
        assert sorted(from_roll_up) == sorted(from_rows), now
        for key, per_window in from_rows.items():
            assert sorted(from_roll_up[key]) == sorted(per_window), (now, key)
            for window, want in per_window.items():
                got = from_roll_up[key][window]
                where = (now, key, window)
                assert (got.count, got.minimum, got.maximum, got.outside) == (
                    want.count,
                    want.minimum,
                    want.maximum,
                    want.outside,
                ), where
                assert got.total == pytest.approx(want.total, rel=1e-12, abs=1e-9), where
                assert got.last_value == want.last_value, where
                compared += 1
    assert compared > 300  # the data reaches into most windows
