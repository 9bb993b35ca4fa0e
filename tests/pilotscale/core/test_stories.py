"""Success stories in the pure core: results, not targets; to whom; once per visit."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from pilotscale.core.messages import entry_work
from pilotscale.core.stories import KpiResult, Lesson, StoryFacts, kpi_context, story_recipients
from pilotscale.plan.schema import Plan
from tests.plans import EXEC, loaded, plan_dict

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)
SCALING = "scaling"  # tests.plans: its entry actions share the success story


def _plan(departments: int = 3, **change: Any) -> Plan:
    data = plan_dict(departments)
    for key, value in change.items():
        data["departments"][0][key] = value
    return loaded(data).plan


def _stories(plan: Plan, facts: StoryFacts | None = None, *, now: datetime = NOW) -> list[Any]:
    dept = plan.departments[0]
    work = entry_work(
        plan, dept, SCALING, now=now, members=[], previous_phase="piloting", story=facts
    )
    return [m for m in work.messages if m.event == "success_story"]


RESULT = KpiResult("drafting", "weekly_active_rate", "Weekly active", "fraction", 0.72, 0.6)


@pytest.mark.parametrize(
    ("result", "met", "shown_actual"),
    [
        (RESULT, True, 0.72),
        (KpiResult("drafting", "weekly_active_rate", "W", "fraction", 0.5, 0.6), False, 0.5),
        (KpiResult("drafting", "tickets", "T", "tickets", 40, 50, direction="down"), True, 40),
        (KpiResult("drafting", "tickets", "T", "tickets", 60, 50, direction="down"), False, 60),
        (KpiResult("drafting", "weekly_active_rate", "W", "fraction", None, 0.6), None, None),
        (KpiResult("drafting", "hours", "H", "hours", 12.0, None), None, 12.0),
    ],
)
def test_a_kpi_result_carries_the_actual_against_the_target(
    result: KpiResult, met: bool | None, shown_actual: float | None
) -> None:
    shown = kpi_context(result)
    assert (shown["actual"], shown["target"], shown["met"]) == (shown_actual, result.target, met)


@pytest.mark.parametrize(
    ("departments", "sponsor", "expected"),
    [
        (
            3,
            "d001-sponsor",
            ["d002-champ1", "d002-champ2", "d003-champ1", "d003-champ2", "d001-sponsor", EXEC],
        ),
        (1, "d001-sponsor", ["d001-sponsor", EXEC]),  # nobody else to borrow it
        # A sponsor who champions elsewhere hears it once.
        (2, "d002-champ1", ["d002-champ1", "d002-champ2", EXEC]),
        (2, EXEC, ["d002-champ1", "d002-champ2", EXEC]),
    ],
)
def test_the_story_goes_to_the_other_champions_and_the_sponsors_once_each(
    departments: int, sponsor: str, expected: list[str]
) -> None:
    plan = _plan(departments, sponsor=sponsor)

    assert story_recipients(plan, plan.departments[0]) == expected
    assert [m.recipient for m in _stories(plan)] == expected


@pytest.mark.parametrize(
    ("facts", "kpis", "lessons"),
    [
        # No figures read: the targets are told, with no actual.
        (
            None,
            [("weekly_active_rate", None, 0.6, None, None)],
            [],
        ),
        (
            StoryFacts((replace(RESULT, as_of=NOW),)),
            [("Weekly active", 0.72, 0.6, True, NOW.isoformat())],
            [],
        ),
        (
            StoryFacts(
                (RESULT,),
                (
                    Lesson("office hours at 9", "d001-champ1", "piloting"),
                    Lesson("by someone gone", "ghost", "scaling"),
                ),
            ),
            [("Weekly active", 0.72, 0.6, True, None)],
            [("office hours at 9", "D001 Champ1"), ("by someone gone", "ghost")],
        ),
    ],
)
def test_the_story_carries_each_use_cases_results_and_the_lessons_learned(
    facts: StoryFacts | None, kpis: list[tuple[Any, ...]], lessons: list[tuple[str, str]]
) -> None:
    (story, *_) = _stories(_plan(), facts)

    (case,) = story.context["use_cases"]
    assert case["name"] == "drafting"
    assert [
        (k["title"], k["actual"], k["target"], k["met"], k["as_of"]) for k in case["kpis"]
    ] == kpis
    assert [(lesson["text"], lesson["by"]) for lesson in story.context["lessons"]] == lessons
    assert story.context["sponsor"]["id"] == "d001-sponsor"


def test_a_story_is_told_once_per_visit() -> None:
    plan = _plan()
    first, again = _stories(plan), _stories(plan)
    later = _stories(plan, now=datetime(2026, 12, 23, tzinfo=UTC))

    assert {m.about for m in first} == {m.about for m in again}
    assert len({m.about for m in first}) == 1
    assert {m.about for m in later}.isdisjoint({m.about for m in first})
