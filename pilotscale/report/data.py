"""Everything the report shows, read from the store in one go as plain values.

The HTML page, the Prefect markdown artifact and the weekly digest all start from
this, so they never disagree. Gate verdicts are read as `pilotscale status` and the
readiness check read them (pilotscale.engine.verdicts), with the failures of metric
sources of the last pull, if given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.decisions import gates_for
from pilotscale.core.states import Outcome
from pilotscale.engine.verdicts import GateVerdict, read_verdicts
from pilotscale.metrics import forecast
from pilotscale.metrics.budget import BudgetProjection, project
from pilotscale.metrics.funnel import STAGE_METRICS, FunnelRow, funnel
from pilotscale.metrics.kpis import (
    KpiActual,
    UseCaseKpi,
    department_impact,
    is_rate,
    program_impact,
    use_case_kpis,
)
from pilotscale.plan.domains import domain_of, domains
from pilotscale.plan.schema import MetricGate, Plan, SoakGate, TrainingGate
from pilotscale.store import impact
from pilotscale.store.snapshot import ProgramView, load_view, state_of

ADOPTION_METRIC = "weekly_active_rate"
CURVE_SPAN = timedelta(weeks=12)


@dataclass(frozen=True)
class GateRow:
    """A gate as the page and the summary print it: an `engine.verdicts.GateVerdict` in text."""

    gate: str
    title: str
    kind: str
    outcome: str  # 'pass', 'fail', 'pending'
    observed: str
    threshold: str
    reason: str
    owner: str  # the owner's name

    @classmethod
    def of(cls, g: GateVerdict) -> GateRow:
        return cls(
            gate=g.gate,
            title=g.title,
            kind=g.kind,
            outcome=str(g.outcome),
            observed=g.observed_text,
            threshold=g.threshold_text,
            reason=g.reason,
            owner=g.owner_name,
        )


@dataclass(frozen=True)
class DepartmentRow:
    name: str
    title: str
    wave: int
    phase: str
    phase_index: int | None  # None: a phase no longer in the plan
    status: str
    since: date
    started: bool
    overall: str | None  # None when not evaluated (not started)
    gates: tuple[GateRow, ...] = ()
    held: bool = False  # started, not operating yet, and some gate does not pass
    forecast: forecast.DepartmentForecast | None = None


@dataclass(frozen=True)
class Curve:
    metric: str
    title: str
    unit: str
    series: dict[str, list[tuple[date, float]]]  # department title -> daily values
    thresholds: list[tuple[str, float]]  # (gate title, threshold)


@dataclass(frozen=True)
class ReportData:
    program: str
    title: str
    as_of: datetime
    timezone: str
    currency: str
    phases: list[tuple[str, str]]  # (name, title)
    departments: list[DepartmentRow]
    program_impact: list[KpiActual]
    department_impact: dict[str, list[KpiActual]]
    use_cases: list[UseCaseKpi]
    funnel: list[FunnelRow]
    curve: Curve | None
    budget: BudgetProjection
    metric_errors: dict[str, str] = field(default_factory=dict)

    def department_title(self, name: str) -> str:
        return next((d.title for d in self.departments if d.name == name), name)

    @property
    def held(self) -> list[DepartmentRow]:
        return [d for d in self.departments if d.held]


def build_report(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
    with_curve: bool = True,
) -> ReportData:
    """Everything the report shows. `with_curve=False` leaves out the adoption curve
    (every sample of a month, the costliest read): the Markdown summary has no chart."""
    plan, machine = view.plan, view.machine
    errors = dict(metric_errors or {})
    zone = ZoneInfo(plan.program.timezone)
    names = {d.id or 0: d.name for d in view.departments}
    started = [d for d in view.departments if machine.is_started(state_of(d))]
    verdicts = read_verdicts(session=session, view=view, now=now, metric_errors=errors)
    rows = []
    for d in view.departments:
        verdict = verdicts.get(d.name)
        index = machine.index(d.phase)
        final = d.phase == machine.final
        held = verdict is not None and not final and not verdict.passes
        gate_rows = tuple(GateRow.of(g) for g in verdict.gates) if verdict else ()
        rows.append(
            DepartmentRow(
                name=d.name,
                title=d.title,
                wave=d.wave,
                phase=d.phase,
                phase_index=index,
                status=d.status,
                since=d.phase_entered_at.astimezone(zone).date(),
                started=machine.is_started(state_of(d)),
                overall=str(verdict.outcome) if verdict else None,
                gates=gate_rows,
                held=held,
                forecast=_forecast(
                    session=session,
                    plan=plan,
                    department_id=d.id or 0,
                    name=d.name,
                    phase=d.phase,
                    entered_at=d.phase_entered_at,
                    holding=[r for r in gate_rows if r.outcome != str(Outcome.passed)],
                    errors=errors,
                    now=now,
                )
                if held
                else None,
            )
        )
    kpi_names = sorted(
        {k.name for k in plan.program.kpis}
        | {t.kpi for dept in plan.departments for case in dept.use_cases for t in case.kpis}
    )
    stats = impact.metric_stats(
        session=session, department_names=names, metrics=domains(plan, kpi_names), now=now
    )
    latest = impact.latest_values(
        session=session, department_names=names, metrics=domains(plan, STAGE_METRICS), now=now
    )
    return ReportData(
        program=plan.program.name,
        title=plan.program.title,
        as_of=now,
        timezone=plan.program.timezone,
        currency=plan.program.budget.currency,
        phases=[(p.name, p.title or p.name) for p in plan.phases],
        departments=rows,
        program_impact=program_impact(plan, stats),
        department_impact=department_impact(plan, stats),
        use_cases=use_case_kpis(plan, stats),
        funnel=funnel(latest, [d.name for d in view.departments]),
        curve=_curve(session=session, plan=plan, names=names, now=now, zone=zone, view=view)
        if with_curve
        else None,
        budget=project(plan, started=[d.name for d in started]),
        metric_errors=errors,
    )


def read_report(
    *,
    engine: Engine,
    program: str | None,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
    with_curve: bool = True,
) -> ReportData:
    """`build_report` in a session of its own, for callers that hold no session."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        return build_report(
            session=session,
            view=view,
            now=now,
            metric_errors=metric_errors,
            with_curve=with_curve,
        )


def _forecast(
    *,
    session: Session,
    plan: Plan,
    department_id: int,
    name: str,
    phase: str,
    entered_at: datetime,
    holding: list[GateRow],
    errors: Mapping[str, str],
    now: datetime,
) -> forecast.DepartmentForecast:
    gates = {g.name: g for g in gates_for(plan, phase)}
    out = []
    for row in holding:
        gate = gates.get(row.gate)
        if isinstance(gate, MetricGate):
            samples = impact.samples(
                session=session,
                department_id=department_id,
                metric=gate.metric,
                domain=domain_of(plan, gate.metric),
                since=now - forecast.LOOKBACK - gate.window,
                now=now,
            )
            out.append(forecast.metric_gate(gate, samples, now, errors.get(gate.metric, "")))
        elif isinstance(gate, SoakGate):
            out.append(forecast.soak(gate.name, entered_at, gate.duration))
        elif isinstance(gate, TrainingGate):
            assigned, done = impact.completions(
                session=session, department_id=department_id, segment=gate.segment, now=now
            )
            out.append(forecast.training(gate.name, assigned, done, gate.min_completion, now))
        else:
            out.append(forecast.waiting(row.gate, row.owner, row.reason))
    return forecast.department(out)


def _curve(
    *,
    session: Session,
    plan: Plan,
    names: Mapping[int, str],
    now: datetime,
    zone: ZoneInfo,
    view: ProgramView,
) -> Curve | None:
    metric = next((m for m in plan.metrics if m.name == ADOPTION_METRIC), None)
    if metric is None:
        metric = next((m for m in plan.metrics if is_rate(m.name, m.unit)), None)
    if metric is None:
        return None
    series = impact.daily_averages(
        session=session,
        department_names=names,
        metric=metric.name,
        domain=domain_of(plan, metric.name),
        since=now - CURVE_SPAN,
        now=now,
        timezone=zone,
    )
    titles = {d.name: d.title for d in view.departments}
    thresholds = sorted(
        {
            (g.title, g.threshold)
            for g in plan.gates
            if isinstance(g, MetricGate) and g.metric == metric.name
        },
        key=lambda t: t[1],
    )
    return Curve(
        metric=metric.name,
        title=metric.title or metric.name,
        unit=metric.unit,
        series={titles.get(n, n): s for n, s in series.items()},
        thresholds=thresholds,
    )
