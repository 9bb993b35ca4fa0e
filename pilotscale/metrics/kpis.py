"""KPI actuals against targets, and impact totals per department and for the program.

Pure arithmetic over plain per-department statistics of each metric (the store
computes them). A KPI is one of two kinds:

- a **total** (time saved, tickets avoided, people helped): observations are amounts
  per period, so the actual is their sum up to now; a department's target is the sum
  of its use cases' targets for that KPI, and the program's actual is the sum over
  departments;
- a **rate** (unit 'fraction', 'ratio', 'rate', '%' or 'percent', or a name ending in
  '_rate', e.g. weekly active rate): the actual is the average of the last 7 days'
  observations; a department's target is the highest of its use cases' targets, and
  the program's actual is the headcount-weighted average of the departments that
  reported it.

A KPI's direction comes from the program KPI ('down' means lower is better); a use
case's KPI that is only a metric counts as 'up'.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from pilotscale.core.targets import target_met
from pilotscale.plan.domains import PERCENT_UNITS
from pilotscale.plan.schema import Plan

RECENT = timedelta(days=7)
RATE_UNITS = frozenset({"fraction", "ratio", "rate", "%", "percent"})


@dataclass(frozen=True)
class MetricStats:
    """One department's observations of one metric up to now."""

    count: int = 0
    total: float = 0.0
    recent_count: int = 0  # within RECENT before now
    recent_total: float = 0.0

    @property
    def recent_avg(self) -> float | None:
        return self.recent_total / self.recent_count if self.recent_count else None


Stats = Mapping[tuple[str, str], MetricStats]  # (department, metric) -> stats


@dataclass(frozen=True)
class KpiActual:
    kpi: str
    title: str
    unit: str
    rate: bool
    direction: str  # 'up' or 'down'
    actual: float | None  # None: no data
    target: float | None  # None: no target

    @property
    def percent(self) -> bool:
        """Observed in percent (0 to 100), not as a fraction: shown as such."""
        return self.unit.strip().lower() in PERCENT_UNITS

    @property
    def progress(self) -> float | None:
        """How far along the target is: 1.0 means met (capped nowhere: 1.3 is 30 % over)."""
        if self.actual is None or not self.target:
            return None
        if self.direction == "down":
            return self.target / self.actual if self.actual else None
        return self.actual / self.target

    @property
    def met(self) -> bool | None:
        return target_met(actual=self.actual, target=self.target, direction=self.direction)


@dataclass(frozen=True)
class UseCaseKpi:
    department: str
    use_case: str
    use_case_title: str
    kpi: KpiActual  # target: the use case's; actual: its department's (shared by its use cases)
    baseline: float | None = None


def is_rate(name: str, unit: str) -> bool:
    return unit.strip().lower() in RATE_UNITS or name.endswith("_rate")


def describe(plan: Plan, name: str) -> tuple[str, str, str]:
    """(title, unit, direction) of a KPI or metric name."""
    for kpi in plan.program.kpis:
        if kpi.name == name:
            return kpi.title, kpi.unit, kpi.direction
    for metric in plan.metrics:
        if metric.name == name:
            return metric.title or name, metric.unit, "up"
    return name, "", "up"


def department_actual(name: str, unit: str, stats: MetricStats | None) -> float | None:
    if stats is None:
        return None
    if is_rate(name, unit):
        return finite(stats.recent_avg)
    return finite(stats.total) if stats.count else None


def finite(value: float | None) -> float | None:
    """A figure that is not a finite number is no figure: shown as no data, never as met.
    (Metric ranges keep sums finite; this is the last line, not the first.)"""
    return value if value is not None and math.isfinite(value) else None


def use_case_kpis(plan: Plan, stats: Stats) -> list[UseCaseKpi]:
    out = []
    for d in plan.departments:
        for case in d.use_cases:
            for target in case.kpis:
                title, unit, direction = describe(plan, target.kpi)
                out.append(
                    UseCaseKpi(
                        department=d.name,
                        use_case=case.name,
                        use_case_title=case.title,
                        kpi=KpiActual(
                            kpi=target.kpi,
                            title=title,
                            unit=unit,
                            rate=is_rate(target.kpi, unit),
                            direction=direction,
                            actual=department_actual(
                                target.kpi, unit, stats.get((d.name, target.kpi))
                            ),
                            target=target.target,
                        ),
                        baseline=target.baseline,
                    )
                )
    return out


def department_impact(plan: Plan, stats: Stats) -> dict[str, list[KpiActual]]:
    """Per department: every program KPI, then any other KPI its use cases name."""
    names = [k.name for k in plan.program.kpis]
    for d in plan.departments:
        for case in d.use_cases:
            names += [t.kpi for t in case.kpis if t.kpi not in names]
    out: dict[str, list[KpiActual]] = {}
    for d in plan.departments:
        targets: dict[str, list[float]] = {}
        for case in d.use_cases:
            for t in case.kpis:
                targets.setdefault(t.kpi, []).append(t.target)
        rows = []
        for name in names:
            title, unit, direction = describe(plan, name)
            rate = is_rate(name, unit)
            wanted = targets.get(name)
            rows.append(
                KpiActual(
                    kpi=name,
                    title=title,
                    unit=unit,
                    rate=rate,
                    direction=direction,
                    actual=department_actual(name, unit, stats.get((d.name, name))),
                    target=(max(wanted) if rate else sum(wanted)) if wanted else None,
                )
            )
        out[d.name] = rows
    return out


def program_impact(plan: Plan, stats: Stats) -> list[KpiActual]:
    """Each program KPI for the whole program, against the program's target."""
    heads = {d.name: d.headcount for d in plan.departments}
    out = []
    for kpi in plan.program.kpis:
        rate = is_rate(kpi.name, kpi.unit)
        actuals = {
            d: department_actual(kpi.name, kpi.unit, stats.get((d, kpi.name))) for d in heads
        }
        reported = {d: v for d, v in actuals.items() if v is not None}
        actual: float | None
        if not reported:
            actual = None
        elif rate:
            weight = sum(heads[d] for d in reported)
            actual = sum(v * heads[d] for d, v in reported.items()) / weight
        else:
            actual = sum(reported.values())
        actual = finite(actual)
        out.append(
            KpiActual(
                kpi=kpi.name,
                title=kpi.title,
                unit=kpi.unit,
                rate=rate,
                direction=kpi.direction,
                actual=actual,
                target=kpi.target,
            )
        )
    return out


def totals_by_name(figures: list[KpiActual]) -> dict[str, float | None]:
    """{KPI name: actual}, the shape the weekly digest takes."""
    return {f.kpi: f.actual for f in figures}
