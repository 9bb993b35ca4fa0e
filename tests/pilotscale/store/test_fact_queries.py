"""The gates' metric aggregates (`store.fact_queries._metrics`: every window read slice by
slice in one statement, each window adding up its slices) equal the figures computed
naively from the rows, window by window, on SQLite and PostgreSQL: window edges, rows
after `now`, several rows at one instant, and rows outside their metric's range."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.facts import MetricAggregate
from pilotscale.models import Department, MetricObservation
from pilotscale.plan.domains import Domain
from pilotscale.plan.schema import MetricGate
from pilotscale.store.fact_queries import _metrics
from tests.pilotscale.engine import helpers as h

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
WINDOWS = [timedelta(weeks=1), timedelta(weeks=2), timedelta(days=17), timedelta(weeks=4)]
RANGES = {"weekly_active_rate": Domain(0.0, 1.0), "time_saved_hours": Domain(0.0, 1e9)}


def _gate(metric: str, aggregate: str, window: timedelta) -> MetricGate:
    return MetricGate.model_validate(
        {
            "kind": "metric",
            "name": f"{metric}-{aggregate}-{int(window.total_seconds())}".replace("_", "-"),
            "title": "a gate",
            "owner": "lead",
            "metric": metric,
            "aggregate": aggregate,
            "window": window,
            "threshold": 0.5,
        }
    )


GATES = [
    _gate("weekly_active_rate", "avg", WINDOWS[0]),
    _gate("weekly_active_rate", "min", WINDOWS[2]),
    _gate("weekly_active_rate", "last", WINDOWS[3]),
    _gate("time_saved_hours", "sum", WINDOWS[1]),
    _gate("time_saved_hours", "max", WINDOWS[3]),
    _gate("time_saved_hours", "last", WINDOWS[0]),
]


def _rows(department: Department, k: int) -> list[MetricObservation]:
    """Five weeks of samples every 7 h 13 min, the edges of each window, a few at one
    instant, some after NOW and, for the second department, rate values out of range."""
    instants = [NOW - timedelta(hours=7, minutes=13) * i for i in range(1, 120)]
    instants += [NOW - w for w in WINDOWS] + [NOW - w + timedelta(seconds=1) for w in WINDOWS]
    instants += [NOW, NOW + timedelta(hours=3)]
    rows = []
    for i, at in enumerate(instants):
        for metric, value in (
            ("weekly_active_rate", ((i * 37 + k) % 101) / 100),  # 0 to 1
            ("time_saved_hours", float((i * 53 + 11 * k) % 997) + 0.25),
        ):
            for person in ("a", "b") if i % 9 == 0 else ("a",):
                rows.append(
                    MetricObservation(
                        program_id=department.program_id,
                        department_id=department.id or 0,
                        metric=metric,
                        value=value if person == "a" else value / 2,
                        observed_at=at,
                        person_key=person,
                    )
                )
    return rows


def _naive(rows: list[MetricObservation], gate: MetricGate) -> MetricAggregate | None:
    domain = RANGES[gate.metric]
    inside = [
        r for r in rows if r.metric == gate.metric and NOW - gate.window < r.observed_at <= NOW
    ]
    # Several at one instant: the last is the one of the greatest (segment, person key).
    valid = sorted(
        (r for r in inside if domain.contains(r.value)),
        key=lambda r: (r.observed_at, r.segment, r.person_key),
    )
    outside = len(inside) - len(valid)
    if not inside:
        return None
    values = [r.value for r in valid]
    return MetricAggregate(
        count=len(values),
        total=math.fsum(values),
        minimum=min(values) if values else None,
        maximum=max(values) if values else None,
        last_value=values[-1] if values else None,
        outside=outside,
    )


def test_every_window_equals_the_naive_figures(engine: Engine) -> None:
    h.apply(engine)
    with Session(engine) as session:
        departments = list(session.exec(select(Department).order_by(Department.name)))[:2]
    stored = {d.id or 0: _rows(d, k) for k, d in enumerate(departments)}
    # a rate out of its range: the second department's groups are read again
    stored[departments[1].id or 0].append(
        MetricObservation(
            program_id=departments[1].program_id,
            department_id=departments[1].id or 0,
            metric="weekly_active_rate",
            value=1.5,
            observed_at=NOW - timedelta(days=3),
            person_key="z",
        )
    )
    # ... and one at the last instant: the last value is still the valid one beside it
    stored[departments[1].id or 0].append(
        MetricObservation(
            program_id=departments[1].program_id,
            department_id=departments[1].id or 0,
            metric="weekly_active_rate",
            value=1.5,
            observed_at=NOW,
            person_key="z",
        )
    )
    # ... and, at the last instant, two more people, stored in the reverse of their keys'
    # order: the last value is the greatest key's, whatever order the rows were read in
    for person, value in (("y", 7.5), ("b", 3.25)):
        stored[departments[0].id or 0].append(
            MetricObservation(
                program_id=departments[0].program_id,
                department_id=departments[0].id or 0,
                metric="time_saved_hours",
                value=value,
                observed_at=NOW,
                person_key=person,
            )
        )
    expected = {
        dept_id: {gate.name: _naive(rows, gate) for gate in GATES}
        for dept_id, rows in stored.items()
    }
    with Session(engine) as session, session.begin():
        for rows in stored.values():
            session.add_all(rows)
    with Session(engine) as session:
        found = _metrics(session, sorted(stored), GATES, RANGES, NOW)

    for dept_id, wanted in expected.items():
        for gate in GATES:
            key = (gate.metric, int(gate.window.total_seconds()))
            want = wanted[gate.name]
            got = found.get(dept_id, {}).get(key)
            assert (got is None) == (want is None), (dept_id, key)
            assert got is not None
            assert want is not None
            assert (got.count, got.minimum, got.maximum, got.outside) == (
                want.count,
                want.minimum,
                want.maximum,
                want.outside,
            ), (dept_id, key)
            assert got.total == pytest.approx(want.total, rel=1e-12), (dept_id, key)
            if gate.aggregate == "last":
                assert got.last_value == want.last_value, (dept_id, key)
    assert any(agg.outside for agg in found[departments[1].id or 0].values()), (
        "the out-of-range rate is counted apart"
    )
