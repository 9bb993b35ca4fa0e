from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pilotscale.core.phases import DeptState
from pilotscale.core.states import Status
from pilotscale.core.waves import (
    StartDecision,
    can_start,
    next_eligible,
    plan_starts,
    resolve_wave_rule,
    resolve_wave_rules,
)
from pilotscale.plan.schema import Rollout, WaveRule

PHASES = ("planned", "preparing", "piloting", "scaling", "operating")
TODAY = date(2026, 12, 1)
QUARTER_END = (date(2026, 12, 21), date(2027, 1, 4), "quarter-end close")


def at(phase: str, status: Status = Status.active) -> DeptState:
    return DeptState(phase, status)


def decide(**overrides: Any) -> StartDecision:
    """HR, wave 1, waiting for wave 0 to reach 'operating'; customer service is there."""
    base: dict[str, Any] = {
        "department": "hr",
        "wave": 1,
        "wave_rule": (0, "operating"),
        "states_by_department": {"cs": (0, at("operating")), "hr": (1, at("planned"))},
        "phases": PHASES,
        "max_active": 2,
        "blackouts": [],
        "program_paused": False,
        "today": TODAY,
        "force": False,
    }
    return can_start(**(base | overrides))


def test_allowed_when_nothing_stands_in_the_way() -> None:
    assert decide() == StartDecision(allowed=True, reasons=[], overridden=[])


# (overrides, force, allowed, reason fragments, overridden fragments)
CASES = [
    (
        {"program_paused": True},
        False,
        False,
        ["the program is paused; resume the program first"],
        [],
    ),
    ({"program_paused": True}, True, False, ["force does not override this"], []),
    (
        {"today": QUARTER_END[0], "blackouts": [QUARTER_END]},
        False,
        False,
        [
            "'hr' is in a blackout from 2026-12-21 to 2027-01-04 (quarter-end close); "
            "start it after 2027-01-04"
        ],
        [],
    ),
    ({"today": QUARTER_END[1], "blackouts": [QUARTER_END]}, False, False, ["blackout"], []),
    ({"today": QUARTER_END[1], "blackouts": [QUARTER_END]}, True, False, ["blackout"], []),
    ({"today": date(2027, 1, 5), "blackouts": [QUARTER_END]}, False, True, [], []),
    ({"today": date(2026, 12, 20), "blackouts": [QUARTER_END]}, False, True, [], []),
    (
        {"today": TODAY, "blackouts": [(TODAY, TODAY, "")]},
        False,
        False,
        ["from 2026-12-01 to 2026-12-01; start it after"],
        [],
    ),
    (
        {"states_by_department": {"cs": (0, at("operating")), "hr": (1, at("piloting"))}},
        True,
        False,
        ["cannot start 'hr': it already started (phase 'piloting')"],
        [],
    ),
    (
        {"states_by_department": {"cs": (0, at("scaling")), "hr": (1, at("planned"))}},
        False,
        False,
        [
            "wave 1 starts when every wave-0 department has reached 'operating'; "
            "not there yet: cs (scaling)"
        ],
        [],
    ),
    (
        {"states_by_department": {"cs": (0, at("scaling")), "hr": (1, at("planned"))}},
        True,
        True,
        [],
        ["not there yet: cs (scaling)"],
    ),
    # A paused or rolled-back department counts by its phase; an aborted one never does.
    (
        {"states_by_department": {"cs": (0, at("operating", Status.paused))}},
        False,
        True,
        [],
        [],
    ),
    (
        {
            "wave_rule": (0, "scaling"),
            "max_active": 5,
            "states_by_department": {
                "cs": (0, at("scaling", Status.rolled_back)),
                "legal": (0, at("operating", Status.aborted)),
                "ops": (0, at("piloting", Status.blocked)),
            },
        },
        False,
        False,
        ["not there yet: legal (operating, aborted), ops (piloting, blocked)"],
        [],
    ),
    # Departments of other waves do not matter to the rule.
    (
        {"states_by_department": {"cs": (0, at("operating")), "x": (2, at("planned"))}},
        False,
        True,
        [],
        [],
    ),
    # A wave with nothing before it, or nothing in the previous wave, is not held.
    ({"wave_rule": None, "states_by_department": {"cs": (0, at("planned"))}}, False, True, [], []),
    ({"wave_rule": (5, "operating")}, False, True, [], []),
    (
        {"wave_rule": (0, "live")},
        False,
        False,
        ["wave 1 waits for wave 0 to reach 'live', which is not a phase of the plan"],
        [],
    ),
    # Capacity: in flight means started, before the final phase, not aborted.
    (
        {
            "states_by_department": {
                "cs": (0, at("operating")),
                "a": (1, at("preparing")),
                "b": (1, at("scaling", Status.paused)),
            }
        },
        False,
        False,
        [
            "2 department(s) already in flight, the most rollout.max_active allows (2): a, b; "
            "wait until one reaches 'operating', or raise rollout.max_active"
        ],
        [],
    ),
    (
        {
            "states_by_department": {
                "cs": (0, at("operating")),
                "a": (1, at("preparing")),
                "b": (1, at("scaling")),
            }
        },
        True,
        True,
        [],
        ["already in flight"],
    ),
    (
        {
            "states_by_department": {
                "cs": (0, at("operating")),
                "a": (1, at("preparing")),
                "b": (1, at("piloting", Status.aborted)),
                "c": (1, at("planned")),
            }
        },
        False,
        True,
        [],
        [],
    ),
    (
        {"max_active": 1, "states_by_department": {"cs": (0, at("piloting"))}},
        False,
        False,
        ["not there yet: cs (piloting)", "1 department(s) already in flight"],
        [],
    ),
    # Force sets aside the judgment calls but never the hard refusals.
    (
        {
            "max_active": 1,
            "program_paused": True,
            "states_by_department": {"cs": (0, at("piloting"))},
        },
        True,
        False,
        ["the program is paused"],
        ["not there yet: cs (piloting)", "already in flight"],
    ),
]


@pytest.mark.parametrize(("overrides", "force", "allowed", "reasons", "overridden"), CASES)
def test_can_start(
    overrides: dict[str, Any],
    force: bool,
    allowed: bool,
    reasons: list[str],
    overridden: list[str],
) -> None:
    decision = decide(**overrides, force=force)
    assert decision.allowed is allowed
    assert decision.allowed is (not decision.reasons)
    assert len(decision.reasons) == len(reasons), decision.reasons
    for expected, got in zip(reasons, decision.reasons, strict=True):
        assert expected in got
    assert len(decision.overridden) == len(overridden), decision.overridden
    for expected, got in zip(overridden, decision.overridden, strict=True):
        assert expected in got


def test_a_department_missing_from_the_states_counts_as_planned() -> None:
    assert decide(states_by_department={"cs": (0, at("operating"))}).allowed


# --------------------------------------------------------------------------- wave rules


ROLLOUT = Rollout(
    default_reaches="scaling",
    waves=[WaveRule(wave=1, after_wave=0, reaches="operating")],
)


@pytest.mark.parametrize(
    ("rollout", "wave", "waves", "expected"),
    [
        (ROLLOUT, 0, [0, 1, 2], None),
        (ROLLOUT, 1, [0, 1, 2], (0, "operating")),  # the explicit rule wins
        (ROLLOUT, 2, [0, 1, 2], (1, "scaling")),
        (ROLLOUT, 4, [0, 1, 4], (1, "scaling")),  # the nearest lower wave, not wave 3
        (Rollout(), 2, [0, 1, 2], None),  # no default: waves are not ordered
        (Rollout(default_reaches="piloting"), 3, [3], None),  # the first wave present
    ],
)
def test_resolve_wave_rule(
    rollout: Rollout, wave: int, waves: list[int], expected: tuple[int, str] | None
) -> None:
    assert resolve_wave_rule(wave, rollout, waves) == expected


def test_resolve_wave_rules_for_every_wave_present() -> None:
    assert resolve_wave_rules(ROLLOUT, [2, 0, 1, 2]) == {
        0: None,
        1: (0, "operating"),
        2: (1, "scaling"),
    }


# --------------------------------------------------------------------------- next eligible


def eligible(states: dict[str, tuple[int, DeptState]], **overrides: Any) -> list[str]:
    base: dict[str, Any] = {
        "states_by_department": states,
        "wave_rules": {0: None, 1: (0, "operating"), 2: (1, "scaling")},
        "phases": PHASES,
        "max_active": 2,
        "blackouts_by_department": {},
        "program_paused": False,
        "today": TODAY,
    }
    return next_eligible(**(base | overrides))


@pytest.mark.parametrize(
    ("states", "overrides", "expected"),
    [
        # By wave, then name, until max_active is used up.
        (
            {
                "cs": (0, at("operating")),
                "sales": (1, at("planned")),
                "hr": (1, at("planned")),
                "legal": (1, at("planned")),
            },
            {},
            ["hr", "legal"],
        ),
        # Wave 2 waits for wave 1, whatever the capacity.
        (
            {"cs": (0, at("operating")), "hr": (1, at("piloting")), "ops": (2, at("planned"))},
            {"max_active": 5},
            [],
        ),
        (
            {"cs": (0, at("operating")), "hr": (1, at("scaling")), "ops": (2, at("planned"))},
            {},
            ["ops"],
        ),
        # One slot left, taken by the earlier wave.
        (
            {
                "cs": (0, at("operating")),
                "hr": (1, at("scaling")),
                "sales": (1, at("planned")),
                "ops": (2, at("planned")),
            },
            {"wave_rules": {1: (0, "operating"), 2: (1, "preparing")}},
            ["sales"],
        ),
        # A start counts as reaching the second phase for the waves after it.
        (
            {"sales": (1, at("planned")), "ops": (2, at("planned"))},
            {"wave_rules": {1: None, 2: (1, "preparing")}},
            ["sales", "ops"],
        ),
        # A department in a blackout is skipped; the next one gets the slot.
        (
            {"cs": (0, at("operating")), "hr": (1, at("planned")), "sales": (1, at("planned"))},
            {
                "max_active": 1,
                "blackouts_by_department": {"hr": [(TODAY, TODAY, "payroll")]},
            },
            ["sales"],
        ),
        (
            {"cs": (0, at("operating")), "hr": (1, at("planned"))},
            {"program_paused": True},
            [],
        ),
        # Started, aborted or rolled-back departments are not candidates.
        (
            {
                "cs": (0, at("operating")),
                "hr": (1, at("preparing", Status.rolled_back)),
                "sales": (1, at("piloting", Status.aborted)),
            },
            {},
            [],
        ),
    ],
)
def test_next_eligible(
    states: dict[str, tuple[int, DeptState]], overrides: dict[str, Any], expected: list[str]
) -> None:
    assert eligible(states, **overrides) == expected


def test_plan_starts_explains_every_department_it_holds() -> None:
    decisions = plan_starts(
        states_by_department={
            "cs": (0, at("operating")),
            "hr": (1, at("planned")),
            "sales": (1, at("planned")),
            "ops": (2, at("planned")),
        },
        wave_rules={1: (0, "operating"), 2: (1, "scaling")},
        phases=PHASES,
        max_active=1,
        blackouts_by_department={},
        program_paused=False,
        today=TODAY,
    )
    assert [(name, d.allowed) for name, d in decisions] == [
        ("hr", True),
        ("sales", False),
        ("ops", False),
    ]
    assert "already in flight" in decisions[1][1].reasons[0]
    assert "not there yet: hr (preparing), sales (planned)" in decisions[2][1].reasons[0]


def test_next_eligible_does_not_change_the_states_it_was_given() -> None:
    states = {"hr": (1, at("planned"))}
    assert eligible(states, wave_rules={}) == ["hr"]
    assert states == {"hr": (1, at("planned"))}
