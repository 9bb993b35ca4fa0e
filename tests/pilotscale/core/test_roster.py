"""The roster's pure rules: the trainee rule, headcounts, and references to roster people."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pilotscale.core.facts import DepartmentFacts, TrainingFact
from pilotscale.core.messages import delivered_segments, entry_work
from pilotscale.core.roster import (
    effective_segment,
    headcount,
    headcount_drift,
    headcount_warnings,
    is_trainee,
    role_names,
    unknown_references,
)
from tests.pilotscale.store.helpers import PLAN, edit, load

SEGMENT_CASES: list[tuple[str | None, str | None, set[str], str]] = [
    # declared by the plan, from the roster, roles -> effective
    ("power", "casual", set(), "power"),  # the plan's explicit segment wins
    ("casual", None, {"sponsor"}, "casual"),  # a sponsor who says so is a trainee
    (None, "power", {"sponsor"}, "power"),  # ... and so is one the roster says so of
    (None, "none", set(), "none"),  # the roster may say "not a trainee"
    (None, None, {"sponsor"}, "none"),  # sponsors, leads, owners, executives: not trainees
    (None, None, {"lead", "approver"}, "none"),
    (None, None, {"support_owner"}, "none"),
    (None, None, {"executive"}, "none"),
    (None, None, {"champion"}, "casual"),  # as before rosters: everyone else is casual
    (None, None, {"approver"}, "casual"),
    (None, None, set(), "casual"),
]


@pytest.mark.parametrize(("declared", "roster", "roles", "expected"), SEGMENT_CASES)
def test_effective_segment(
    declared: str | None, roster: str | None, roles: set[str], expected: str
) -> None:
    assert effective_segment(declared=declared, roster=roster, roles=roles) == expected


@pytest.mark.parametrize(
    ("segment", "trainee"), [("power", True), ("casual", True), ("none", False), ("", False)]
)
def test_is_trainee(segment: str, trainee: bool) -> None:
    assert is_trainee(segment) is trainee


HEADCOUNT_CASES: list[tuple[int, int | None, int]] = [
    (180, None, 180),  # no roster imported: the plan's number, as before
    (180, 150, 150),  # a roster: its active people
    (180, 0, 0),  # a roster that lists nobody in the department
]


@pytest.mark.parametrize(("planned", "active", "expected"), HEADCOUNT_CASES)
def test_headcount(planned: int, active: int | None, expected: int) -> None:
    assert headcount(planned=planned, active=active) == expected


DRIFT_CASES: list[tuple[int, int, str | None]] = [
    (180, 180, None),
    (180, 162, None),  # exactly 10 % below: within
    (180, 198, None),  # exactly 10 % above: within
    (180, 161, "headcount 180 but the roster has 161 active people"),
    (180, 199, "headcount 180 but the roster has 199 active people"),
    (180, 150, "headcount 180 but the roster has 150 active people"),
    (10, 1, "headcount 10 but the roster has 1 active person"),
    (10, 0, "headcount 10 but the roster has 0 active people"),
]


@pytest.mark.parametrize(("planned", "active", "expected"), DRIFT_CASES)
def test_headcount_drift(planned: int, active: int, expected: str | None) -> None:
    assert headcount_drift(planned=planned, active=active) == expected


def test_headcount_warnings_are_located_at_each_departments_headcount() -> None:
    plan = load().plan  # support 50, finance 120, legal 12

    found = headcount_warnings(plan, {"support": 50, "finance": 150, "legal": 12})

    assert found == [
        (
            ("departments", 1, "headcount"),
            "departments[finance].headcount 120 but the roster has 150 active people",
        )
    ]


def test_role_names_gather_every_role_the_plan_gives() -> None:
    roles = role_names(load().plan)

    assert roles["ines.sponsor"] == {"sponsor", "approver"}
    assert roles["leo.lead"] == {"lead", "approver", "support_owner"}  # finance's content
    assert roles["it.desk"] == {"support_owner"}
    assert roles["fran.champion"] == {"champion"}


def test_references_to_roster_people_are_checked_against_the_roster() -> None:
    text = edit(PLAN, "champions: [fran.champion]", "champions: [fran.champion, e1042]")
    text = edit(text, "adoption: it.desk}", "adoption: e2001}")
    plan = load(text).plan

    missing = unknown_references(plan, {"e1042"})

    assert missing == [
        (
            ("departments", 0, "support", "adoption"),
            "adoption support owner 'e2001' is neither under people nor on the active roster: "
            "add the person to the plan, or import a roster that lists them "
            "(pilotscale people import FILE)",
        )
    ]
    assert unknown_references(plan, {"e1042", "e2001"}) == []


@pytest.mark.parametrize(
    ("phase", "segments"),
    [("planned", set()), ("piloting", {"power"}), ("scaling", {"power", "casual"})],
)
def test_delivered_segments_add_up_over_the_phases(phase: str, segments: set[str]) -> None:
    text = edit(
        PLAN,
        "  - name: piloting\n",
        "  - name: piloting\n    entry_actions: [deliver_training]\n"
        "    training_segments: [power]\n",
    )
    text = edit(
        text,
        "  - name: operating\n",
        "  - name: scaling\n    entry_actions: [deliver_training]\n"
        "    training_segments: [casual]\n    min_soak: 1w\n  - name: operating\n",
    )
    assert delivered_segments(load(text).plan, phase) == segments


TRAINING_ALL: list[tuple[dict[str, Any], TrainingFact]] = [
    # 'all' sums people when every segment was counted in people
    (
        {"power": TrainingFact(2, 2, people=3), "casual": TrainingFact(5, 1, people=10)},
        TrainingFact(7, 3, people=13),
    ),
    # ... and falls back to assignments when a segment was not
    ({"power": TrainingFact(2, 2), "casual": TrainingFact(5, 1, people=10)}, TrainingFact(7, 3)),
    ({}, TrainingFact(0, 0)),
]


@pytest.mark.parametrize(("training", "expected"), TRAINING_ALL)
def test_training_for_all_segments(training: dict[str, Any], expected: TrainingFact) -> None:
    facts = DepartmentFacts(
        department="hr", phase_entered_at=datetime(2026, 1, 1, tzinfo=UTC), training=training
    )
    assert facts.training_for("all") == expected


def test_entering_a_phase_trains_the_segment_and_not_its_sponsor() -> None:
    text = edit(
        PLAN,
        "  - name: piloting\n",
        "  - name: piloting\n    entry_actions: [deliver_training]\n",
    )
    text = edit(
        text,
        "    champions: [fran.champion]\n",
        "    champions: [fran.champion]\n"
        "    training: {power: [{id: course, title: Course}],\n"
        "               casual: [{id: guide, title: Guide}]}\n",
    )
    text += (
        "  - {id: e1, name: One, email: one@example.com, department: finance}\n"
        "  - {id: e2, name: Two, email: two@example.com, department: finance, segment: none}\n"
    )
    plan = load(text).plan
    # The sponsor (no segment) with the department's people.
    members = [plan.person("ines.sponsor"), *plan.members("finance")]

    work = entry_work(
        plan,
        plan.department("finance"),
        "piloting",
        now=datetime(2026, 1, 5, tzinfo=UTC),
        members=members,
        previous_phase="planned",
    )

    assert [(a.person, a.segment, a.module) for a in work.assignments] == [
        ("fran.champion", "power", "course"),
        ("e1", "casual", "guide"),
    ]
