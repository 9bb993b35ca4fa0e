"""What trend gates read: per department, metric and window, the sums a least-squares line
needs (`core.facts.Moments`), computed in SQL.

Reading the samples as rows cost 5.3 s against 0.9 s without trends at 2,000 departments
with a sample a day over six weeks (84,000 rows through the ORM's row and datetime
handling; `bench/trend_read.py`, SQLite); the sums are one grouped row per department and
window, and the same read took 1.2-1.5 s against 0.6-1.7 s without (on a shared,
loaded machine: the difference is within its noise).
Each sample's age is counted in days back from the check's moment, so the sums stay small
numbers whatever the epoch. Only values inside their metric's range count, as everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, cast, func, literal, select
from sqlmodel import Session

from pilotscale.core.facts import Moments, Series
from pilotscale.core.trend import point_of
from pilotscale.models import MetricObservation
from pilotscale.plan.domains import domains
from pilotscale.plan.schema import Plan, TrendGate
from pilotscale.store.domain_filter import within
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of

_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def load_series(
    *,
    session: Session,
    plan: Plan,
    department_ids: Sequence[int],
    gates: Iterable[TrendGate],
    now: datetime,
) -> dict[int, dict[str, Series]]:
    """Department id -> metric -> its moments for each trend window gated on it, over the
    window ending at `now` (nothing later counts). One grouped query per distinct window."""
    by_window: dict[timedelta, set[str]] = defaultdict(set)
    for gate in gates:
        by_window[gate.window].add(gate.metric)
    if not by_window or not department_ids:
        return {}
    m = columns_of(MetricObservation)
    age = _age_in_days(session, m.observed_at, now)
    value = cast(m.value, Float)
    found: dict[tuple[int, str], dict[int, Moments]] = defaultdict(dict)
    for window, metrics in sorted(by_window.items()):
        rows = session.execute(
            select(
                m.department_id,
                m.metric,
                func.count(),
                func.sum(age),
                func.sum(value),
                func.sum(age * age),
                func.sum(age * value),
            )
            .where(
                id_in(session, m.department_id, department_ids),
                m.metric.in_(sorted(metrics)),
                m.observed_at > now - window,
                m.observed_at <= now,
                within(domains(plan, metrics)),
            )
            .group_by(m.department_id, m.metric)
        ).all()
        for dept_id, metric, count, t, v, tt, tv in rows:
            found[(dept_id, metric)][int(window.total_seconds())] = Moments(
                count=int(count),
                t=float(t or 0.0),
                v=float(v or 0.0),
                tt=float(tt or 0.0),
                tv=float(tv or 0.0),
            )
    points = {
        metric: point_of(plan, metric) for metrics in by_window.values() for metric in metrics
    }
    out: dict[int, dict[str, Series]] = defaultdict(dict)
    for (dept_id, metric), moments in found.items():
        point, unit = points[metric]
        out[dept_id][metric] = Series(point=point, unit=unit, moments=moments)
    return dict(out)


def _age_in_days(session: Session, column: Any, now: datetime) -> Any:
    """How many days before `now` the row was observed, as a float, in SQL."""
    epoch_seconds = now.astimezone(UTC).timestamp()
    if session.get_bind().dialect.name == "postgresql":
        return (
            literal(epoch_seconds, Float) - cast(func.extract("epoch", column), Float)
        ) / 86400.0
    # SQLite keeps naive UTC text, which julianday reads.
    now_julian = epoch_seconds / 86400.0 + _UNIX_EPOCH_JULIAN_DAY
    return literal(now_julian, Float) - func.julianday(column)
