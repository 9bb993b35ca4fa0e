"""Pulling the plan's due metric sources before a readiness check evaluates its gates.

A source is due when nothing was pulled from it within its `every`. Each source is
fetched outside any transaction (a slow endpoint must not hold a database lock),
then its values are written in one short transaction. A source that fails is
reported by metric name; the check passes those errors to gate evaluation, which
makes every gate on that metric pending with the reason — never a pass on stale data.
A source that returns a value outside its metric's range, or a moment more than a day
after the check or ten years before it, fails the same way, and none of its values is
stored.

When the plan declares the metric `budget_projection_ratio`, the check also records
the full-rollout budget projection / approved budget for every department it
evaluates, so a metric gate (`op: "<="`, `threshold: 1.0`) can hold departments
while the rollout does not fit the budget.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from pilotscale.metrics.budget import RATIO_METRIC, project
from pilotscale.metrics.fetch import (
    DEFAULT_BACKOFF,
    PullContext,
    Sleep,
    SourcedValue,
    SourceError,
    fetch_http,
    fetch_sql,
)
from pilotscale.metrics.timeparse import implausible
from pilotscale.models import MetricObservation
from pilotscale.plan.domains import Domain, domain_of
from pilotscale.plan.schema import HttpSource, Metric, Segment, SqlSource
from pilotscale.redact import scrub
from pilotscale.secrets import SecretLoader
from pilotscale.store.insert import insert_ignore
from pilotscale.store.snapshot import load_view, state_of

SEGMENTS = {"", *(s.value for s in Segment if s is not Segment.none)}


@dataclass
class PullReport:
    pulled: dict[str, int] = field(default_factory=dict)  # metric -> new observations
    not_due: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # metric -> why; its gates pend
    ignored: dict[str, int] = field(default_factory=dict)  # values for unknown departments
    budget_ratio: float | None = None

    def summary(self) -> str:
        parts = [f"{m}: {n} new" for m, n in self.pulled.items()]
        parts += [f"{m}: FAILED ({why})" for m, why in self.errors.items()]
        if self.not_due:
            parts.append(f"not due: {', '.join(self.not_due)}")
        if self.budget_ratio is not None:
            parts.append(f"{RATIO_METRIC} = {self.budget_ratio:.3f}")
        return "; ".join(parts) or "no metric sources in the plan"


def pull_due_sources(
    *,
    engine: Engine,
    now: datetime,
    program: str | None = None,
    environ: Mapping[str, str] | None = None,
    secret_loader: SecretLoader | None = None,
    backoff: Sequence[float] = DEFAULT_BACKOFF,
    sleep: Sleep = time.sleep,
) -> PullReport:
    report = PullReport()
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        machine = view.machine
        evaluated = {
            d.name: d.id or 0 for d in view.departments if machine.is_evaluated(state_of(d))
        }
        started = [d.name for d in view.departments if machine.is_started(state_of(d))]
        program_id = view.program.id or 0
        sourced = [m for m in view.plan.metrics if isinstance(m.source, HttpSource | SqlSource)]
        last = _last_pulls(session=session, program_id=program_id, metrics=sourced, now=now)
    if not evaluated:
        return report
    ctx = PullContext(
        departments=sorted(evaluated),
        now=now,
        timezone=ZoneInfo(view.plan.program.timezone),
        environ=environ,
        secret_loader=secret_loader,
        backoff=backoff,
        sleep=sleep,
    )
    for metric in sourced:
        every: timedelta = metric.source.every  # type: ignore[union-attr]
        previous = last.get(metric.name)
        if previous is not None and previous > now - every:
            report.not_due.append(metric.name)
            continue
        try:
            values = _fetch(metric, ctx, domain_of(view.plan, metric.name))
            known = [v for v in values if v.department in evaluated]
            report.ignored[metric.name] = len(values) - len(known)
            report.pulled[metric.name] = _write(
                engine=engine,
                program_id=program_id,
                department_ids=evaluated,
                metric=metric.name,
                source=metric.source.kind,
                values=known,
                now=now,
            )
        except SourceError as exc:
            report.errors[metric.name] = str(exc)
        except Exception as exc:  # a source must never crash the check; its gates pend
            report.errors[metric.name] = scrub(f"{type(exc).__name__}: {exc}")[:300]
    if any(m.name == RATIO_METRIC for m in view.plan.metrics):
        projection = project(view.plan, started=started)
        report.budget_ratio = projection.ratio
        outside = (
            None
            if projection.ratio is None
            else domain_of(view.plan, RATIO_METRIC).problem(RATIO_METRIC, projection.ratio)
        )
        if outside:
            report.errors[RATIO_METRIC] = outside
        elif projection.ratio is not None:
            _write(
                engine=engine,
                program_id=program_id,
                department_ids=evaluated,
                metric=RATIO_METRIC,
                source="budget",
                values=[SourcedValue(name, projection.ratio, now) for name in evaluated],
                now=now,
            )
    return report


def _fetch(metric: Metric, ctx: PullContext, domain: Domain) -> list[SourcedValue]:
    """The source's values, or a SourceError for the first one that cannot be stored."""
    source = metric.source
    values = fetch_http(source, ctx) if isinstance(source, HttpSource) else fetch_sql(source, ctx)  # type: ignore[arg-type]
    for v in values:
        if v.segment.lower() not in SEGMENTS:
            raise SourceError(
                f"segment '{v.segment[:20]}' is not power, casual or empty (metric '{metric.name}')"
            )
        outside = domain.problem(metric.name, v.value)
        if outside:
            raise SourceError(f"{v.department[:40]}: {outside}")
        when = implausible(v.observed_at, ctx.now)
        if when:
            raise SourceError(f"{v.department[:40]}: observed_at {when}, the moment of this check")
    return values


def _last_pulls(
    *, session: Session, program_id: int, metrics: Sequence[Metric], now: datetime
) -> dict[str, datetime]:
    if not metrics:
        return {}
    m = MetricObservation
    rows = session.execute(
        select(col(m.metric), func.max(col(m.imported_at)))
        .where(
            col(m.program_id) == program_id,
            col(m.metric).in_([x.name for x in metrics]),
            col(m.source).in_(["http", "sql"]),
            col(m.imported_at) <= now,
        )
        .group_by(col(m.metric))
    ).all()
    return {name: _aware(at) for name, at in rows if at is not None}


def _write(
    *,
    engine: Engine,
    program_id: int,
    department_ids: Mapping[str, int],
    metric: str,
    source: str,
    values: Sequence[SourcedValue],
    now: datetime,
) -> int:
    rows: list[dict[str, Any]] = [
        {
            "program_id": program_id,
            "department_id": department_ids[v.department],
            "metric": metric,
            "value": v.value,
            "observed_at": v.observed_at,
            "segment": v.segment.lower(),
            "person_key": v.person,
            "source": source,
            # The check's clock, not the wall clock: "due" is judged on the same clock.
            "imported_at": now,
        }
        for v in values
    ]
    with Session(engine) as session, session.begin():
        return insert_ignore(session=session, model=MetricObservation, rows=rows)


def _aware(value: Any) -> datetime:
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
