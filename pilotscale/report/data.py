"""Everything the report shows, read from the store in one go as plain values.

The HTML page, the Prefect markdown artifact and the weekly digest all start from
this, so they never disagree. Gate verdicts are read as `pilotscale status` and the
readiness check read them (pilotscale.engine.verdicts), with the failures of metric
sources of the last pull, if given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.controls import until_text
from pilotscale.core.decisions import gates_for
from pilotscale.core.states import Outcome
from pilotscale.engine.people_lines import lines
from pilotscale.engine.verdicts import DepartmentVerdict, GateVerdict, read_verdicts
from pilotscale.gcpause import without_gc
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
from pilotscale.store.latest_kpis import latest_readings
from pilotscale.store.people_queries import PEOPLE_KINDS
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
    # Consecutive checks it has been pending when that reached its limit (core.stuck); 0
    # when it is not stuck.
    stuck_checks: int = 0
    # How the result is shown when it is not simply its outcome: "waived until 2026-12-31"
    # (a lead set it aside), "fail (advisory)" (it never holds); '' otherwise.
    label: str = ""

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
            stuck_checks=g.pending_checks if g.stuck else 0,
            label=f"waived until {until_text(g.waived_until)}"
            if g.waived_until is not None
            else (g.label if g.advisory else ""),
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
    # Plain sentences (engine.people_lines): the open barriers, and who decided, attested
    # and answered in this visit when it was entered on someone's behalf or is a rejection.
    barriers: tuple[str, ...] = ()
    decisions: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # lessons learned (`pilotscale note`), oldest first
    blackout: str = ""  # "in blackout until 2026-12-31 (quarter close)", or ''

    @property
    def waived(self) -> tuple[GateRow, ...]:
        return tuple(g for g in self.gates if g.label.startswith("waived"))


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
    # Program rate KPIs with no observation in the last 7 days: their latest reading
    # (moment, value), so the page says when the data went quiet (store.latest_kpis).
    kpi_latest: dict[str, tuple[datetime, float]] = field(default_factory=dict)

    def department_title(self, name: str) -> str:
        return next((d.title for d in self.departments if d.name == name), name)

    @property
    def held(self) -> list[DepartmentRow]:
        return [d for d in self.departments if d.held]


# Like the verdicts it starts from: hundreds of thousands of objects that all survive
# the call, which the collector would walk again and again for nothing.
@without_gc
def build_report(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
    with_charts: bool = True,
    known: Mapping[str, DepartmentVerdict] | None = None,
    people: Collection[str] = PEOPLE_KINDS,
) -> ReportData:
    """Everything the report shows. `with_charts=False` leaves out what only the page's
    charts show: the adoption curve (every sample of a month, the costliest read) and the
    funnel. The Markdown summary and the digest have no chart.
    `known`: verdicts already read as of `now` that still hold (`read_verdicts`), so
    that the readiness check's summary does not read its facts a second time. `people`:
    the kinds of the people's side to read (`store.people_queries`), the others empty."""
    plan, machine = view.plan, view.machine
    errors = dict(metric_errors or {})
    zone = ZoneInfo(plan.program.timezone)
    names = {d.id or 0: d.name for d in view.departments}
    started = [d for d in view.departments if machine.is_started(state_of(d))]
    verdicts = read_verdicts(
        session=session, view=view, now=now, metric_errors=errors, with_people=people, known=known
    )
    rows = []
    held: list[_Held] = []
    for d in view.departments:
        verdict = verdicts.get(d.name)
        index = machine.index(d.phase)
        final = d.phase == machine.final
        is_held = verdict is not None and not final and not verdict.passes
        gate_rows = tuple(GateRow.of(g) for g in verdict.gates) if verdict else ()
        said = lines(plan, verdict.people) if verdict else None
        if is_held:
            holding = [r for r in gate_rows if r.outcome != str(Outcome.passed)]
            held.append(_Held(d.id or 0, d.name, d.phase, d.phase_entered_at, holding))
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
                held=is_held,
                barriers=said.barriers if said else (),
                decisions=said.decisions if said else (),
                notes=said.notes if said else (),
                blackout=verdict.blackout_text if verdict else "",
            )
        )
    forecasts = _forecasts(session=session, plan=plan, held=held, errors=errors, now=now)
    rows = [replace(r, forecast=forecasts[r.name]) if r.held else r for r in rows]
    kpi_names = sorted(
        {k.name for k in plan.program.kpis}
        | {t.kpi for dept in plan.departments for case in dept.use_cases for t in case.kpis}
    )
    stats = impact.metric_stats(
        session=session, department_names=names, metrics=domains(plan, kpi_names), now=now
    )
    latest = (
        impact.latest_values(
            session=session, department_names=names, metrics=domains(plan, STAGE_METRICS), now=now
        )
        if with_charts
        else {}
    )
    program_kpis = program_impact(plan, stats)
    quiet = [k.kpi for k in program_kpis if k.actual is None and k.rate]
    kpi_latest = (
        latest_readings(
            session=session, department_ids=list(names), metrics=domains(plan, quiet), now=now
        )
        if quiet
        else {}
    )
    return ReportData(
        program=plan.program.name,
        title=plan.program.title,
        as_of=now,
        timezone=plan.program.timezone,
        currency=plan.program.budget.currency,
        phases=[(p.name, p.title or p.name) for p in plan.phases],
        departments=rows,
        program_impact=program_kpis,
        department_impact=department_impact(plan, stats),
        use_cases=use_case_kpis(plan, stats),
        funnel=funnel(latest, [d.name for d in view.departments]) if with_charts else [],
        curve=_curve(session=session, plan=plan, names=names, now=now, zone=zone, view=view)
        if with_charts
        else None,
        budget=project(plan, started=[d.name for d in started]),
        metric_errors=errors,
        kpi_latest=kpi_latest,
    )


def read_report(
    *,
    engine: Engine,
    program: str | None,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
    with_charts: bool = True,
    known: Mapping[str, DepartmentVerdict] | None = None,
    people: Collection[str] = PEOPLE_KINDS,
) -> ReportData:
    """`build_report` in a session of its own, for callers that hold no session."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        return build_report(
            session=session,
            view=view,
            now=now,
            metric_errors=metric_errors,
            with_charts=with_charts,
            known=known,
            people=people,
        )


def held_forecasts(
    *,
    session: Session,
    view: ProgramView,
    verdicts: Mapping[str, DepartmentVerdict],
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
) -> dict[str, forecast.DepartmentForecast]:
    """The forecast of each held department (started, before the last phase, some gate not
    passing), from verdicts already read: the web board shows them beside its phase board."""
    final = view.machine.final
    held = [
        _Held(
            d.id or 0,
            d.name,
            d.phase,
            d.phase_entered_at,
            [GateRow.of(g) for g in verdict.holding],
        )
        for d in view.departments
        if (verdict := verdicts.get(d.name)) is not None and d.phase != final and not verdict.passes
    ]
    return _forecasts(
        session=session, plan=view.plan, held=held, errors=dict(metric_errors or {}), now=now
    )


@dataclass(frozen=True)
class _Held:
    """A held department, and the rows of the gates that hold it."""

    id: int
    name: str
    phase: str
    entered_at: datetime
    holding: list[GateRow]


def _forecasts(
    *,
    session: Session,
    plan: Plan,
    held: list[_Held],
    errors: Mapping[str, str],
    now: datetime,
) -> dict[str, forecast.DepartmentForecast]:
    """Each held department's forecast. The samples and training it extends are read in
    one query per metric and one for training, for all the held departments at once:
    one query per department and gate made a 2,000-department report take minutes."""
    wanted: dict[str, dict[int, list[MetricGate]]] = defaultdict(lambda: defaultdict(list))
    trained: set[int] = set()
    for h in held:
        gates = {g.name: g for g in gates_for(plan, h.phase, h.name)}
        for row in h.holding:
            gate = gates.get(row.gate)
            if isinstance(gate, MetricGate):
                wanted[gate.metric][h.id].append(gate)
            elif isinstance(gate, TrainingGate):
                trained.add(h.id)
    metric_forecasts: dict[tuple[int, str], forecast.GateForecast] = {}
    for metric, per_department in sorted(wanted.items()):
        earliest = min(
            now - forecast.LOOKBACK - g.window for gs in per_department.values() for g in gs
        )
        streamed = impact.samples_by_department(
            session=session,
            department_ids=list(per_department),
            metric=metric,
            domain=domain_of(plan, metric),
            since=earliest,
            now=now,
        )
        unseen = set(per_department)
        for department_id, points in streamed:
            unseen.discard(department_id)
            for gate in per_department[department_id]:
                metric_forecasts[(department_id, gate.name)] = _metric_forecast(
                    gate, points, errors, now
                )
        for department_id in unseen:  # no sample at all
            for gate in per_department[department_id]:
                metric_forecasts[(department_id, gate.name)] = _metric_forecast(
                    gate, [], errors, now
                )
    training = impact.completions_by_department(
        session=session, department_ids=sorted(trained), now=now
    )
    out = {}
    for h in held:
        gates = {g.name: g for g in gates_for(plan, h.phase, h.name)}
        parts = []
        for row in h.holding:
            gate = gates.get(row.gate)
            if isinstance(gate, MetricGate):
                parts.append(metric_forecasts[(h.id, gate.name)])
            elif isinstance(gate, SoakGate):
                parts.append(forecast.soak(gate.name, h.entered_at, gate.duration))
            elif isinstance(gate, TrainingGate):
                assigned, done = training.get(h.id, impact.Completions()).of(gate.segment)
                parts.append(forecast.training(gate.name, assigned, done, gate.min_completion, now))
            else:
                parts.append(forecast.waiting(row.gate, row.owner, row.reason))
        out[h.name] = forecast.department(parts)
    return out


def _metric_forecast(
    gate: MetricGate,
    points: list[tuple[datetime, float]],
    errors: Mapping[str, str],
    now: datetime,
) -> forecast.GateForecast:
    since = now - forecast.LOOKBACK - gate.window
    samples = [p for p in points if p[0] > since]
    return forecast.metric_gate(gate, samples, now, errors.get(gate.metric, ""))


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
