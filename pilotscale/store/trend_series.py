"""The samples trend gates read: each observation in the window, one query for all departments.

A trend needs the points themselves, not an aggregate, so this reads rows; a trend window
holds a few dozen observations per department (weekly or daily figures), so even 2,000
departments are a small read. Only values inside their metric's range count, as everywhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from pilotscale.core.facts import Series
from pilotscale.core.trend import point_of
from pilotscale.models import MetricObservation
from pilotscale.plan.domains import domains
from pilotscale.plan.schema import Plan, TrendGate
from pilotscale.store.domain_filter import within
from pilotscale.store.tables import columns_of


def load_series(
    *,
    session: Session,
    plan: Plan,
    department_ids: Sequence[int],
    gates: Iterable[TrendGate],
    now: datetime,
) -> dict[int, dict[str, Series]]:
    """Department id -> metric -> its samples over the longest trend window on the metric
    (ending at `now`; nothing later counts), oldest first."""
    longest: dict[str, timedelta] = {}
    for gate in gates:
        longest[gate.metric] = max(gate.window, longest.get(gate.metric, gate.window))
    if not longest or not department_ids:
        return {}
    m = columns_of(MetricObservation)
    query = (
        select(m.department_id, m.metric, m.observed_at, m.value)
        .where(
            m.department_id.in_(list(department_ids)),
            m.metric.in_(sorted(longest)),
            m.observed_at > now - max(longest.values()),
            m.observed_at <= now,
            within(domains(plan, longest)),
        )
        .order_by(m.department_id, m.metric, m.observed_at)
    )
    samples: dict[tuple[int, str], list[tuple[datetime, float]]] = defaultdict(list)
    for dept_id, metric, at, value in session.execute(query):
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if at > now - longest[metric]:
            samples[(dept_id, metric)].append((at, float(value)))
    points = {metric: point_of(plan, metric) for metric in longest}
    out: dict[int, dict[str, Series]] = defaultdict(dict)
    for (dept_id, metric), found in samples.items():
        point, unit = points[metric]
        out[dept_id][metric] = Series(tuple(found), point=point, unit=unit)
    return dict(out)
