"""The adoption curve's local days: the database groups samples by the day the program's
time zone gives each instant (`store.impact.daily_averages`, its offsets from
`store.impact._offsets`), exactly as converting each instant in Python does, across clock
changes and odd offsets, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.db import get_engine
from pilotscale.models import Department, MetricObservation
from pilotscale.plan.domains import Domain
from pilotscale.store import impact
from pilotscale.store.impact import _offsets
from pilotscale.store.tables import columns_of
from tests.pilotscale.engine import helpers as h

ZONES = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "America/Santiago",  # changes its clocks at midnight
    "America/Havana",  # likewise, at 01:00 / 00:00
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute daylight saving shift
    "Pacific/Chatham",  # +12:45 / +13:45
]
NOWS = [
    datetime(2026, 11, 23, 7, tzinfo=UTC),
    datetime(2026, 4, 6, 23, 30, tzinfo=UTC),
    datetime(2026, 9, 10, 3, 0, tzinfo=UTC),
]


def _instants(zone: ZoneInfo, since: datetime, now: datetime, walk: int) -> list[datetime]:
    """Every local midnight of the span, the seconds either side, and a walk in steps that
    fall on every minute of the hour over the weeks."""
    tick = timedelta(seconds=1)
    found = []
    day = since.astimezone(zone).date()
    while day <= now.astimezone(zone).date():
        start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
        found += [start - tick, start, start + tick]
        day += timedelta(days=1)
    found += [since + timedelta(minutes=37 * k, seconds=k % 60) for k in range(walk)]
    return [at for at in [*found, now] if since < at <= now]


def _day(offsets: list[tuple[int, int]], at: datetime) -> date:
    """What the database computes: whole local days of the UTC seconds plus the offset."""
    second = math.floor(at.timestamp())
    shift = next(offset for start, offset in reversed(offsets) if second >= start)
    return date(1970, 1, 1) + timedelta(days=(second + shift) // 86400)


@pytest.mark.parametrize("zone_name", ZONES)
def test_each_instant_gets_the_date_its_zone_gives_it(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    for now in NOWS:
        since = now - timedelta(weeks=12)
        offsets = _offsets(zone, since, now)
        for at in _instants(zone, since, now, walk=3300):
            assert _day(offsets, at) == at.astimezone(zone).date(), (zone_name, at)


@pytest.mark.parametrize("zone_name", ["Europe/Madrid", "America/Santiago", "Pacific/Chatham"])
def test_the_database_averages_each_local_day_as_python_does(
    engine: Engine, zone_name: str
) -> None:
    h.apply(engine)
    zone = ZoneInfo(zone_name)
    now = NOWS[0]
    since = now - timedelta(weeks=12)
    with Session(engine) as session:
        departments = list(session.exec(select(Department)))
    rows, expected = [], {}
    for k, d in enumerate(departments[:2]):
        days: dict[date, list[float]] = defaultdict(list)
        for i, at in enumerate(_instants(zone, since, now, walk=400)):
            value = ((i * 7 + k) % 100) / 100
            days[at.astimezone(zone).date()].append(value)
            rows.append(
                MetricObservation(
                    program_id=d.program_id,
                    department_id=d.id or 0,
                    metric="weekly_active_rate",
                    value=value,
                    observed_at=at,
                    person_key=f"p{i}",
                )
            )
        expected[d.name] = sorted((day, sum(v) / len(v)) for day, v in days.items())
    with Session(engine) as session, session.begin():
        session.add_all(rows)

    with Session(engine) as session:
        found = impact.daily_averages(
            session=session,
            department_names={d.id or 0: d.name for d in departments},
            metric="weekly_active_rate",
            domain=Domain(0.0, 1.0),
            since=since,
            now=now,
            timezone=zone,
        )

    assert set(found) == set(expected)
    for name, points in expected.items():
        assert [day for day, _ in found[name]] == [day for day, _ in points]
        for (_, got), (_, want) in zip(found[name], points, strict=True):
            assert got == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("sqlite_version", [(3, 37, 2), (3, 38, 0)])
def test_sqlite_counts_the_seconds_of_an_instant_with_or_without_unixepoch(
    tmp_path: Path, sqlite_version: tuple[int, ...]
) -> None:
    """Before SQLite 3.38 the seconds come from `strftime('%s')`; from 3.38 on, from
    `unixepoch`: the same whole seconds either way."""
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    h.apply(engine)
    dialect = SimpleNamespace(
        name="sqlite", dbapi=SimpleNamespace(sqlite_version_info=sqlite_version)
    )
    instants = [
        datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 6, 59, 59, 500_000, tzinfo=UTC),
        datetime(2026, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
        datetime(1999, 1, 1, 12, tzinfo=UTC),
    ]
    with Session(engine) as session:
        d = session.exec(select(Department)).first()
        assert d is not None
        for i, at in enumerate(instants):
            session.add(
                MetricObservation(
                    program_id=d.program_id,
                    department_id=d.id or 0,
                    metric="weekly_active_rate",
                    value=0.5,
                    observed_at=at,
                    person_key=f"p{i}",
                )
            )
        session.commit()
        m = columns_of(MetricObservation)
        seconds = impact._epoch_seconds(m.observed_at, dialect)  # type: ignore[arg-type]
        found = session.execute(select(m.observed_at, seconds).order_by(m.person_key)).all()

    assert "unixepoch" in str(seconds) if sqlite_version >= (3, 38) else "strftime" in str(seconds)
    # SQLite reads an instant to the millisecond (so 00:59:59.999999 is 01:00:00), either way.
    assert [s for _, s in found] == [
        math.floor(round(at.timestamp() * 1000) / 1000) for at in instants
    ]
