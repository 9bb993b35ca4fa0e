"""What the KPIs, the funnel, the curves and the forecasts are computed from: grouped reads
of metric observations and training assignments, as plain numbers keyed by name.

Only observations inside their metric's range count (`store.domain_filter`): a stored value
from before ranges were checked can neither overflow a sum nor show in a figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from pilotscale.metrics.kpis import RECENT, MetricStats, program_impact, totals_by_name
from pilotscale.models import MetricObservation, TrainingAssignment
from pilotscale.plan.domains import Domain, domains
from pilotscale.store.domain_filter import within
from pilotscale.store.snapshot import ProgramView
from pilotscale.store.tables import columns_of

DAY = timedelta(days=1)


def metric_stats(
    *,
    session: Session,
    department_names: Mapping[int, str],
    metrics: Mapping[str, Domain],
    now: datetime,
    recent: timedelta = RECENT,
) -> dict[tuple[str, str], MetricStats]:
    """Per (department, metric): all observations up to `now`, and those of the last week.
    `metrics` maps each metric to its range (`plan.domains.domains`)."""
    if not metrics or not department_names:
        return {}
    m = MetricObservation
    is_recent = col(m.observed_at) > now - recent
    rows = session.execute(
        select(
            col(m.department_id),
            col(m.metric),
            func.count(),
            func.sum(col(m.value)),
            func.count().filter(is_recent),
            func.sum(col(m.value)).filter(is_recent),
        )
        .where(
            col(m.department_id).in_(list(department_names)),
            col(m.metric).in_(list(metrics)),
            col(m.observed_at) <= now,
            within(metrics),
        )
        .group_by(col(m.department_id), col(m.metric))
    ).all()
    return {
        (department_names[dept], metric): MetricStats(
            count=int(count),
            total=float(total or 0.0),
            recent_count=int(recent_count or 0),
            recent_total=float(recent_total or 0.0),
        )
        for dept, metric, count, total, recent_count, recent_total in rows
    }


def latest_values(
    *,
    session: Session,
    department_names: Mapping[int, str],
    metrics: Mapping[str, Domain],
    now: datetime,
) -> dict[tuple[str, str, str], float]:
    """Per (department, segment, metric): the latest observation up to `now` inside the
    metric's range (`metrics` maps each metric to it)."""
    if not metrics or not department_names:
        return {}
    m = MetricObservation
    valid = within(metrics)
    scope = (
        col(m.department_id).in_(list(department_names)),
        col(m.metric).in_(list(metrics)),
        col(m.observed_at) <= now,
        valid,
    )
    latest = (
        select(
            col(m.department_id).label("d"),
            col(m.segment).label("s"),
            col(m.metric).label("m"),
            func.max(col(m.observed_at)).label("at"),
        )
        .where(*scope)
        .group_by(col(m.department_id), col(m.segment), col(m.metric))
        .subquery()
    )
    rows = session.execute(
        select(col(m.department_id), col(m.segment), col(m.metric), col(m.value))
        .join(
            latest,
            and_(
                col(m.department_id) == latest.c.d,
                col(m.segment) == latest.c.s,
                col(m.metric) == latest.c.m,
                col(m.observed_at) == latest.c.at,
            ),
        )
        .where(valid)
    ).all()
    return {(department_names[d], s, metric): float(v) for d, s, metric, v in rows}


def daily_averages(
    *,
    session: Session,
    department_names: Mapping[int, str],
    metric: str,
    domain: Domain,
    since: datetime,
    now: datetime,
    timezone: ZoneInfo,
) -> dict[str, list[tuple[date, float]]]:
    """Per department: the average of `metric` on each local day that has observations."""
    sums: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    rows = _samples(session, list(department_names), {metric: domain}, since, now)
    for dept, at, value in rows:
        sums[department_names[dept]][_utc(at).astimezone(timezone).date()].append(float(value))
    return {
        name: sorted((day, sum(v) / len(v)) for day, v in days.items())
        for name, days in sums.items()
    }


def samples(
    *,
    session: Session,
    department_id: int,
    metric: str,
    domain: Domain,
    since: datetime,
    now: datetime,
) -> list[tuple[datetime, float]]:
    """Raw (observed_at, value) of one department's metric in (since, now], in its range."""
    rows = _samples(session, [department_id], {metric: domain}, since, now)
    return [(_utc(at), float(v)) for _, at, v in rows]


def completions(
    *, session: Session, department_id: int, segment: str, now: datetime
) -> tuple[int, list[datetime]]:
    """Assignments of a segment ('all' for every segment) and their completion times."""
    t = TrainingAssignment
    query = select(col(t.completed_at)).where(
        col(t.department_id) == department_id, col(t.assigned_at) <= now
    )
    if segment != "all":
        query = query.where(col(t.segment) == segment)
    rows = session.execute(query).all()
    done = [_utc(at) for (at,) in rows if at is not None]
    return len(rows), done


def digest_totals(
    *, session: Session, view: ProgramView, now: datetime
) -> tuple[dict[str, float | None], dict[str, float | None]]:
    """Program KPI totals now and one week earlier, for the weekly digest:
    `notifications.digest_messages.figures(plan, *digest_totals(...))`."""
    names = {d.id or 0: d.name for d in view.departments}
    metrics = domains(view.plan, [k.name for k in view.plan.program.kpis])

    def at(moment: datetime) -> dict[str, float | None]:
        stats = metric_stats(session=session, department_names=names, metrics=metrics, now=moment)
        return totals_by_name(program_impact(view.plan, stats))

    return at(now), at(now - 7 * DAY)


def _samples(
    session: Session, ids: list[int], metrics: Mapping[str, Domain], since: datetime, now: datetime
) -> Sequence[Any]:
    # Core columns: a month of samples is hundreds of thousands of rows at 1,000
    # departments, and the ORM's per-row bookkeeping cost more than the query.
    m = columns_of(MetricObservation)
    return session.execute(
        select(m.department_id, m.observed_at, m.value)
        .where(
            m.department_id.in_(ids),
            m.metric.in_(list(metrics)),
            within(metrics),
            m.observed_at > since,
            m.observed_at <= now,
        )
        .order_by(m.observed_at)
    ).all()


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
