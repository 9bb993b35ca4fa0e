"""What a success story tells, read from the store: each use case's KPI results and the
department's lessons learned, as plain figures for the pure builder (pilotscale.core.stories).

The actuals are the report's (pilotscale.metrics.kpis.use_case_kpis over the same grouped
statistics); a rate KPI whose last week is empty is shown with its latest reading and the
day of it (store.latest_kpis), as the report does, rather than as no data. Read only for
the few departments whose story is told now: the entering department, or the week's for
the digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlmodel import Session

from pilotscale.core.stories import KpiResult, Lesson, StoryFacts
from pilotscale.metrics.kpis import use_case_kpis
from pilotscale.plan.domains import domains
from pilotscale.plan.schema import Plan
from pilotscale.store.impact import metric_stats
from pilotscale.store.latest_kpis import latest_readings
from pilotscale.store.people_queries import notes_by_department


def story_facts(
    *, session: Session, plan: Plan, departments: Mapping[int, str], now: datetime
) -> dict[str, StoryFacts]:
    """By department name, for `departments` ({id: name})."""
    if not departments:
        return {}
    wanted = set(departments.values())
    cases = [u for d in plan.departments if d.name in wanted for u in d.use_cases]
    names = {t.kpi for u in cases for t in u.kpis}
    metrics = domains(plan, sorted(names))
    stats = metric_stats(session=session, department_names=departments, metrics=metrics, now=now)
    figures = [f for f in use_case_kpis(plan, stats) if f.department in wanted]
    notes = notes_by_department(session=session, department_ids=list(departments), now=now)
    out: dict[str, StoryFacts] = {}
    for dept_id, name in departments.items():
        mine = [f for f in figures if f.department == name]
        quiet = {f.kpi.kpi: metrics[f.kpi.kpi] for f in mine if f.kpi.actual is None}
        latest = (
            latest_readings(session=session, department_ids=[dept_id], metrics=quiet, now=now)
            if quiet
            else {}
        )
        results = []
        for f in mine:
            actual, as_of = f.kpi.actual, now.astimezone(UTC)
            if actual is None and f.kpi.kpi in latest:
                as_of, actual = latest[f.kpi.kpi]
            results.append(
                KpiResult(
                    use_case=f.use_case,
                    kpi=f.kpi.kpi,
                    title=f.kpi.title,
                    unit=f.kpi.unit,
                    actual=actual,
                    target=f.kpi.target,
                    baseline=f.baseline,
                    direction=f.kpi.direction,
                    as_of=as_of if actual is not None else None,
                )
            )
        lessons = tuple(Lesson(n.text, n.written_by, n.phase) for n in notes.get(dept_id, ()))
        out[name] = StoryFacts(results=tuple(results), lessons=lessons)
    return out
