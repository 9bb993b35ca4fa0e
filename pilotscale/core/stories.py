"""A success story: what a department that reached a `share_success_story` phase achieved,
told to the people who can borrow it and to those who back the program.

Pure: the engine reads the KPI figures and the lessons learned from the store and passes
them here as plain values (`StoryFacts`); this module only shapes them. The story carries
results, not just targets: each use case's KPI as measured against its target and
baseline, as of when it was read, so a champion elsewhere sees what it is worth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pilotscale.core.targets import target_met
from pilotscale.plan.schema import Department, Plan


@dataclass(frozen=True)
class KpiResult:
    """One use case's KPI: the department's actual (shared by its use cases) against the
    use case's target. `as_of` is when the actual was read: the moment of the story, or
    the latest reading of a KPI that has gone quiet."""

    use_case: str
    kpi: str
    title: str
    unit: str
    actual: float | None  # None: no data yet
    target: float | None
    baseline: float | None = None
    direction: str = "up"  # 'down': lower is better
    as_of: datetime | None = None

    @property
    def met(self) -> bool | None:
        return target_met(actual=self.actual, target=self.target, direction=self.direction)


@dataclass(frozen=True)
class Lesson:
    text: str
    by: str  # person id of who wrote it
    phase: str


@dataclass(frozen=True)
class StoryFacts:
    """What the store knows of a department when its story is told."""

    results: tuple[KpiResult, ...] = ()
    lessons: tuple[Lesson, ...] = ()  # oldest first


def kpi_context(result: KpiResult) -> dict[str, Any]:
    return {
        "kpi": result.kpi,
        "title": result.title,
        "unit": result.unit,
        "actual": result.actual,
        "target": result.target,
        "baseline": result.baseline,
        "direction": result.direction,
        "met": result.met,
        "as_of": result.as_of.isoformat() if result.as_of else None,
    }


def use_case_results(dept: Department, facts: StoryFacts) -> list[dict[str, Any]]:
    """The department's use cases in plan order, each with its KPI results; a KPI the
    engine had no figure for is still listed, with its target and no actual."""
    found = {(r.use_case, r.kpi): r for r in facts.results}
    out = []
    for case in dept.use_cases:
        kpis = [
            found.get((case.name, t.kpi))
            or KpiResult(case.name, t.kpi, t.kpi, "", None, t.target, t.baseline)
            for t in case.kpis
        ]
        out.append(
            {
                "name": case.name,
                "title": case.title,
                "description": case.description,
                "kpis": [kpi_context(k) for k in kpis],
            }
        )
    return out


def story_recipients(plan: Plan, dept: Department) -> list[str]:
    """The other departments' champions, to borrow what worked; the department's sponsor
    and the program's sponsor, to see what their backing bought. Each person once."""
    people = [c for other in plan.departments if other.name != dept.name for c in other.champions]
    people += [p for p in (dept.sponsor, plan.program.sponsor) if p]
    return _unique(people)


def story_context(
    plan: Plan,
    dept: Department,
    base: Mapping[str, Any],
    facts: StoryFacts,
    *,
    person: Callable[[Plan, str], dict[str, Any]],
) -> dict[str, Any]:
    """`person` turns a person id into its context (core.messages.person_context)."""
    return {
        **base,
        "use_cases": use_case_results(dept, facts),
        "champions": [person(plan, c) for c in dept.champions],
        "sponsor": person(plan, dept.sponsor) if dept.sponsor else None,
        "lessons": [
            {"text": lesson.text, "by": _name(plan, lesson.by), "phase": lesson.phase}
            for lesson in facts.lessons
        ],
    }


def _name(plan: Plan, person_id: str) -> str:
    found = plan.find_person(person_id)
    return found.name if found else person_id


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
