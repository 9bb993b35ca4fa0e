"""The weekly digest for sponsors, executives and the lead: impact, not just usage.

Pure: the figures are plain numbers computed elsewhere (the metrics and report
code); this module only shapes them into the digest's messages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from pilotscale.core.messages import Message
from pilotscale.core.stories import StoryFacts, use_case_results
from pilotscale.plan.schema import Plan, Role

EVENT = "weekly_digest"


@dataclass(frozen=True)
class ImpactFigure:
    name: str  # KPI or metric name, e.g. 'time_saved_hours'
    title: str
    unit: str  # 'hours', 'tickets', 'people', 'fraction' (shown as a percentage), ...
    value: float | None  # None: not reported this week
    previous: float | None = None  # the week before, for the change
    target: float | None = None


@dataclass(frozen=True)
class DepartmentLine:
    name: str
    title: str
    phase: str
    status: str = "active"
    since: date | None = None  # when it entered the phase
    held_by: Sequence[str] = field(default_factory=tuple)  # titles of the gates holding it
    state: str = ""  # its word (pilotscale.core.vocabulary.State), as the report says it


@dataclass(frozen=True)
class StoryLine:
    """A department that entered a phase sharing its success story during the week."""

    name: str
    phase: str
    entered: date
    facts: StoryFacts = field(default_factory=StoryFacts)


def figures(
    plan: Plan,
    totals: Mapping[str, float | None],
    previous: Mapping[str, float | None] | None = None,
) -> list[ImpactFigure]:
    """One figure per program KPI, in the plan's order, from plain totals by KPI name."""
    previous = previous or {}
    return [
        ImpactFigure(
            name=kpi.name,
            title=kpi.title,
            unit=kpi.unit,
            value=totals.get(kpi.name),
            previous=previous.get(kpi.name),
            target=kpi.target,
        )
        for kpi in plan.program.kpis
    ]


def recipients(plan: Plan) -> list[str]:
    """The program sponsor and lead, every department sponsor, and every executive."""
    people = [plan.program.sponsor, plan.program.lead]
    people += [d.sponsor for d in plan.departments if d.sponsor]
    people += [p.id for p in plan.people if Role.executive in p.roles or Role.sponsor in p.roles]
    return list(dict.fromkeys(people))


def weekly_digest(
    plan: Plan,
    *,
    week_start: date,
    impact: Sequence[ImpactFigure],
    departments: Sequence[DepartmentLine],
    advanced: Sequence[tuple[str, str]] = (),
    headline: Sequence[str] = (),
    tiles: Sequence[tuple[str, int, str]] = (),
    stories: Sequence[StoryLine] = (),
    now: datetime,
) -> list[Message]:
    """The digest messages for the week starting `week_start`.

    `advanced` lists (department title, new phase title) for moves during the week;
    `headline` and `tiles` (word, count, note) are the report's headline
    (pilotscale.report.headline), so the digest opens with the same sentences.
    `stories` are the week's success stories, with each use case's KPI results.
    The `about` is the program and week, so a re-run of the digest sends nothing twice.
    """
    week_end = week_start + timedelta(days=6)
    titles = {p.name: p.title or p.name for p in plan.phases}
    counts = Counter(d.phase for d in departments)
    context: dict[str, Any] = {
        "program": {"name": plan.program.name, "title": plan.program.title},
        "as_of": now.isoformat(),
        "week": {
            "start": week_start.isoformat(),
            "end": week_end.isoformat(),
            "label": f"week of {week_start.day} {week_start:%b %Y}",
        },
        "headline": {
            "text": " ".join(headline),
            "tiles": [{"label": w, "value": n, "note": note} for w, n, note in tiles],
        },
        "impact": [_figure(f) for f in impact],
        "phases": [
            {"name": p.name, "title": titles[p.name], "count": counts.get(p.name, 0)}
            for p in plan.phases
        ],
        "departments": [
            {
                "name": d.name,
                "title": d.title,
                "phase": d.phase,
                "phase_title": titles.get(d.phase, d.phase),
                "status": d.status,
                "state": d.state or d.status,
                "since": d.since.isoformat() if d.since else None,
                "held_by": list(d.held_by),
            }
            for d in departments
        ],
        "advanced": [{"department": dept, "to_phase_title": phase} for dept, phase in advanced],
        "stories": [_story(plan, s, titles) for s in stories if s.name in plan.departments_by_name],
    }
    about = f"{plan.program.name}:{week_start.isoformat()}"
    return [Message(EVENT, person, about, None, context) for person in recipients(plan)]


def _story(plan: Plan, story: StoryLine, titles: Mapping[str, str]) -> dict[str, Any]:
    dept = plan.department(story.name)
    return {
        "department": {"name": dept.name, "title": dept.title},
        "phase": story.phase,
        "phase_title": titles.get(story.phase, story.phase),
        "entered": story.entered.isoformat(),
        "use_cases": use_case_results(dept, story.facts),
    }


def _figure(figure: ImpactFigure) -> dict[str, Any]:
    change = (
        figure.value - figure.previous
        if figure.value is not None and figure.previous is not None
        else None
    )
    return {
        "name": figure.name,
        "title": figure.title,
        "unit": figure.unit,
        "value": figure.value,
        "previous": figure.previous,
        "change": change,
        "target": figure.target,
    }
