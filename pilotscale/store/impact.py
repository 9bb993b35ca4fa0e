"""What the KPIs, the funnel, the curves and the forecasts are computed from: grouped reads
of metric observations and training assignments, as plain numbers keyed by name.

Only observations inside their metric's range count (`store.domain_filter`): a stored value
from before ranges were checked can neither overflow a sum nor show in a figure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain, groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Session, col

from pilotscale.metrics.kpis import RECENT, MetricStats, program_impact, totals_by_name
from pilotscale.models import MetricObservation, TrainingAssignment
from pilotscale.plan.domains import Domain, domains
from pilotscale.store.domain_filter import within
from pilotscale.store.id_match import id_in
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
            id_in(session, col(m.department_id), department_names),
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
        id_in(session, col(m.department_id), department_names),
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

    The database groups the samples by department and local day (the instant's UTC
    seconds plus the zone's offset at that instant, in whole days): three months of
    samples of 2,000 departments are half a million rows, and reading each into Python to
    find its day took 3.5 s of the report; the 70,000 days take a tenth of that."""
    if not department_names:
        return {}
    m = columns_of(MetricObservation)
    seconds = _epoch_seconds(m.observed_at, session.get_bind().dialect)
    offsets = _offsets(timezone, since, now)
    offset: Any = literal(offsets[0][1])
    if len(offsets) > 1:
        offset = case(
            *((seconds >= start, literal(shift)) for start, shift in reversed(offsets[1:])),
            else_=literal(offsets[0][1]),
        )
    # Whole days since 1970-01-01 on the local clock (`//`: integer division on both
    # databases, which for seconds after 1970 is the floor).
    day = ((seconds + offset) // literal(86400)).label("day")
    rows = session.execute(
        select(m.department_id, day, func.sum(m.value), func.count())
        .where(
            id_in(session, m.department_id, department_names),
            m.metric == metric,
            within({metric: domain}),
            m.observed_at > since,
            m.observed_at <= now,
        )
        .group_by(m.department_id, day)
        .order_by(m.department_id, day)
    ).all()
    out: dict[str, list[tuple[date, float]]] = {}
    for dept, points in groupby(rows, key=itemgetter(0)):
        out[department_names[dept]] = [
            (_EPOCH_DAY + timedelta(days=int(n)), float(total) / int(count))
            for _, n, total, count in points
        ]
    return out


_EPOCH_DAY = date(1970, 1, 1)


def _epoch_seconds(column: Any, dialect: Dialect) -> Any:
    """Whole seconds since 1970-01-01 UTC of a stored instant, as the database computes it
    (SQLite stores naive UTC text; PostgreSQL a timestamptz). SQLite's `unixepoch` (3.38
    and later) is the same number as `strftime('%s')` without writing it out as text and
    reading it back: the adoption curve's read of half a million samples at 2,000
    departments took 0.51 s with it, 0.66 s without."""
    if dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", column)), BigInteger)
    if getattr(dialect.dbapi, "sqlite_version_info", (0,)) >= (3, 38):
        return func.unixepoch(column)
    return cast(func.strftime("%s", column), Integer)


def _offsets(zone: ZoneInfo, since: datetime, now: datetime) -> list[tuple[int, int]]:
    """The zone's UTC offsets over (since, now], in seconds: [(from this UTC second, offset)],
    the first from the start. A change is found hour by hour, then to the second."""

    def shift(second: int) -> int:
        offset = datetime.fromtimestamp(second, UTC).astimezone(zone).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    first, last = int(since.timestamp()) - 1, int(now.timestamp()) + 1
    found = [(first, shift(first))]
    hour = first
    while hour < last:
        following = min(hour + 3600, last)
        if shift(following) != found[-1][1]:
            low, high = hour, following  # shift(low) is the current offset, shift(high) not
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if shift(middle) == found[-1][1] else (low, middle)
            found.append((high, shift(high)))
        hour = following
    return found


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
    # Core columns: the ORM's per-row bookkeeping cost more than the query. The instants
    # are read without the column's type (three Python calls a sample, most of the cost
    # of 750,000 samples of held departments' forecasts): SQLite's naive UTC text through
    # `fromisoformat`, PostgreSQL's aware datetimes as psycopg makes them.
    m = columns_of(MetricObservation)
    postgres = session.get_bind().dialect.name == "postgresql"
    at: Any = (
        type_coerce(m.observed_at, DateTime(timezone=True))
        if postgres
        else type_coerce(m.observed_at, String)
    )
    result = session.execute(
        select(m.department_id, at, m.value)
        .where(
            id_in(session, m.department_id, department_ids),
            m.metric == metric,
            within({metric: domain}),
            m.observed_at > since,
            m.observed_at <= now,
        )
        .order_by(m.department_id, m.observed_at, m.segment, m.person_key)
        .execution_options(yield_per=STREAM_ROWS)
    )
    for dept, rows in groupby(chain.from_iterable(result.partitions()), key=itemgetter(0)):
        if postgres:
            yield dept, [(at.astimezone(UTC), float(v)) for _, at, v in rows]
        else:
            yield dept, [(_from_text(at).replace(tzinfo=UTC), float(v)) for _, at, v in rows]


_from_text = datetime.fromisoformat


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
            id_in(session, t.department_id, department_ids), t.assigned_at <= now
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
