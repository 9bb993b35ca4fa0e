"""What the KPIs, the funnel, the curves and the forecasts are computed from: grouped reads
of metric observations and training assignments, as plain numbers keyed by name.

Only observations inside their metric's range count (`store.domain_filter`): a stored value
from before ranges were checked can neither overflow a sum nor show in a figure.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain, groupby
from operator import itemgetter
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
STREAM_ROWS = 10_000  # rows fetched at a time where a read streams


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
    """Per department: the average of `metric` on each local day that has observations.

    Read as it streams, one department at a time: three months of samples of 2,000
    departments held at once took 190 MB. Each day's values are added in the order they
    were observed, as they always were, so the averages do not move in the last digit."""
    day_of = _local_days(timezone, since, now)
    out: dict[str, list[tuple[date, float]]] = {}
    for dept, points in samples_by_department(
        session=session,
        department_ids=list(department_names),
        metric=metric,
        domain=domain,
        since=since,
        now=now,
    ):
        days: dict[date, list[float]] = defaultdict(list)
        for at, value in points:
            days[day_of(at)].append(value)
        out[department_names[dept]] = sorted((day, sum(v) / len(v)) for day, v in days.items())
    return out


def _local_days(zone: ZoneInfo, since: datetime, now: datetime) -> Callable[[datetime], date]:
    """The local date of an instant in (since, now]: looked up among the instants at which
    each local day of the span begins (one comparison), not converted sample by sample.
    Instants on a day whose clock was turned back are converted: the clock may cross
    midnight backwards, so the day's beginning does not tell where it ends."""
    first = since.astimezone(zone).date()
    days = [first + k * DAY for k in range((now.astimezone(zone).date() - first).days + 2)]
    starts = [datetime.combine(day, time(), tzinfo=zone).astimezone(UTC) for day in days]
    tick = timedelta(microseconds=1)

    def convert(at: datetime) -> date:
        return at.astimezone(zone).date()

    def offset(at: datetime) -> timedelta | None:
        return at.astimezone(zone).utcoffset()

    if not all(
        convert(start) == day and convert(start - tick) == day - DAY
        for day, start in zip(days, starts, strict=True)
    ):
        return convert
    turned_back = {
        i
        for i in range(len(days) - 1)
        if (offset(starts[i + 1] - tick) or DAY) < (offset(starts[i]) or DAY)
    }

    def look_up(at: datetime) -> date:
        i = bisect_right(starts, at) - 1
        if 0 <= i < len(days) - 1 and i not in turned_back:
            return days[i]
        return convert(at)

    return look_up


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
    found = samples_by_department(
        session=session,
        department_ids=[department_id],
        metric=metric,
        domain=domain,
        since=since,
        now=now,
    )
    return next((points for _, points in found), [])


def samples_by_department(
    *,
    session: Session,
    department_ids: Sequence[int],
    metric: str,
    domain: Domain,
    since: datetime,
    now: datetime,
) -> Iterator[tuple[int, list[tuple[datetime, float]]]]:
    """Per department (in id order): the raw (observed_at, value) of `metric` in
    (since, now], in its range, oldest first. One query for all the departments, read
    as it streams: a month of samples of 2,000 departments is not held at once."""
    if not department_ids:
        return
    # Core columns: the ORM's per-row bookkeeping cost more than the query.
    m = columns_of(MetricObservation)
    result = session.execute(
        select(m.department_id, m.observed_at, m.value)
        .where(
            m.department_id.in_(sorted(set(department_ids))),
            m.metric == metric,
            within({metric: domain}),
            m.observed_at > since,
            m.observed_at <= now,
        )
        .order_by(m.department_id, m.observed_at, m.segment, m.person_key)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for dept, rows in groupby(chain.from_iterable(result.partitions()), key=itemgetter(0)):
        yield dept, [(_utc(at), float(v)) for _, at, v in rows]


def completions(
    *, session: Session, department_id: int, segment: str, now: datetime
) -> tuple[int, list[datetime]]:
    """Assignments of a segment ('all' for every segment) and their completion times."""
    found = completions_by_department(session=session, department_ids=[department_id], now=now)
    return found.get(department_id, Completions()).of(segment)


@dataclass
class Completions:
    """One department's training assignments: (segment, completed_at or None) each."""

    rows: list[tuple[str, datetime | None]] = field(default_factory=list)

    def of(self, segment: str) -> tuple[int, list[datetime]]:
        """Assignments of a segment ('all' for every segment) and their completion times."""
        rows = [at for s, at in self.rows if segment in ("all", s)]
        return len(rows), [at for at in rows if at is not None]


def completions_by_department(
    *, session: Session, department_ids: Sequence[int], now: datetime
) -> dict[int, Completions]:
    """Per department: its assignments up to `now` (one query for all of them)."""
    if not department_ids:
        return {}
    t = columns_of(TrainingAssignment)
    rows = session.execute(
        select(t.department_id, t.segment, t.completed_at).where(
            t.department_id.in_(sorted(set(department_ids))), t.assigned_at <= now
        )
    )
    out: dict[int, Completions] = defaultdict(Completions)
    for dept, segment, at in rows:
        out[dept].rows.append((segment, None if at is None else _utc(at)))
    return dict(out)


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


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
