"""The latest reading of each KPI metric, with its date, for the report's KPIs whose
last-7-days window is empty: "62 % on 2026-10-02" reads as data gone quiet, where a bare
"—" read as a broken report.

Kept apart from `store.impact` (the report's bulk reads) on purpose: one small read per
quiet KPI, and only when the report has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from pilotscale.models import MetricObservation
from pilotscale.plan.domains import Domain
from pilotscale.store.domain_filter import within
from pilotscale.store.id_match import id_in

DAY = timedelta(days=1)


def latest_readings(
    *,
    session: Session,
    department_ids: list[int],
    metrics: Mapping[str, Domain],
    now: datetime,
) -> dict[str, tuple[datetime, float]]:
    """Per metric: the moment of its latest observation up to `now` among the departments,
    and the mean of its observations in the day up to that moment."""
    out: dict[str, tuple[datetime, float]] = {}
    if not department_ids:
        return out
    m = MetricObservation
    for metric, domain in sorted(metrics.items()):
        scope = (
            id_in(session, col(m.department_id), department_ids),
            col(m.metric) == metric,
            col(m.observed_at) <= now,
            within({metric: domain}),
        )
        last = session.execute(select(func.max(col(m.observed_at))).where(*scope)).scalar()
        if last is None:
            continue
        if last.tzinfo is None:  # SQLite keeps no offset: stored in UTC
            last = last.replace(tzinfo=UTC)
        mean = session.execute(
            select(func.avg(col(m.value))).where(*scope, col(m.observed_at) > last - DAY)
        ).scalar()
        if mean is not None:
            out[metric] = (last, float(mean))
    return out
