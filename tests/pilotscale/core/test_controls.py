"""The operator's controls as pure rules, table-driven: waiver expiry, advisory gates,
blackouts, a paused program, and per-department gate overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pilotscale.core.controls import (
    Waiver,
    active_waivers,
    apply_waivers,
    blackout_on,
    in_blackout,
    paused,
    quiet,
)
from pilotscale.core.decisions import Action, Decision, holding_summary
from pilotscale.core.gates import GateResult, PhaseVerdict, overall_outcome
from pilotscale.core.messages import Message
from pilotscale.core.phases import DeptState
from pilotscale.core.states import Outcome, Status
from pilotscale.plan.overrides import apply_override, override_problems
from pilotscale.plan.schema import GateOverride, MetricGate, SoakGate, TrainingGate

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
P, F, W = Outcome.passed, Outcome.failed, Outcome.pending


def _result(gate: str, outcome: Outcome) -> GateResult:
    return GateResult(gate, "metric", outcome, None, "", "", f"{gate} is {outcome}")


def _verdict(*results: tuple[str, Outcome], advisory: tuple[str, ...] = ()) -> PhaseVerdict:
    rs = tuple(_result(g, o) for g, o in results)
    return PhaseVerdict(overall_outcome(rs, advisory), rs, advisory=frozenset(advisory))


def _waiver(gate: str, until_days: float, at_days: float = -1) -> Waiver:
    return Waiver(
        gate, NOW + timedelta(days=until_days), "Maria", "why", NOW + timedelta(days=at_days)
    )


# --------------------------------------------------------------------------- advisory


@pytest.mark.parametrize(
    ("results", "advisory", "expected"),
    [
        ([("a", P), ("b", F)], (), F),
        ([("a", P), ("b", F)], ("b",), P),  # an advisory failure never holds
        ([("a", W), ("b", F)], ("b",), W),
        ([("a", F), ("b", W)], ("b",), F),
        ([("a", F)], ("a",), P),  # only advisory gates: nothing holds
        ([], (), P),
    ],
)
def test_advisory_gates_never_hold(
    results: list[tuple[str, Outcome]], advisory: tuple[str, ...], expected: Outcome
) -> None:
    assert _verdict(*results, advisory=advisory).outcome is expected


def test_an_advisory_gate_is_named_as_such_where_it_is_shown() -> None:
    verdict = _verdict(("a", F), ("b", F), advisory=("b",))
    assert holding_summary(verdict) == "failing: a, b (advisory)"


# --------------------------------------------------------------------------- waivers


@pytest.mark.parametrize(
    ("waivers", "active"),
    [
        ([_waiver("a", 1)], {"a"}),
        ([_waiver("a", 0)], set()),  # ends at `until`: expired exactly then
        ([_waiver("a", -1, at_days=-3)], set()),
        # A later waiver replaces an earlier one, even one that ends sooner.
        ([_waiver("a", 10, at_days=-3), _waiver("a", -0.5, at_days=-2)], set()),
        ([_waiver("a", -0.5, at_days=-3), _waiver("a", 5, at_days=-2)], {"a"}),
        ([_waiver("a", 1), _waiver("b", -1)], {"a"}),
    ],
)
def test_which_waivers_are_in_force(waivers: list[Waiver], active: set[str]) -> None:
    assert set(active_waivers(waivers, NOW)) == active


@pytest.mark.parametrize(
    ("results", "waived", "outcome", "marked"),
    [
        ([("a", P), ("b", F)], ["b"], P, {"b"}),
        ([("a", P), ("b", W)], ["b"], P, {"b"}),
        ([("a", F), ("b", W)], ["b"], F, {"b"}),  # another gate still fails
        ([("a", P), ("b", P)], ["b"], P, set()),  # a passing gate needs no waiver
        ([("a", P), ("b", F)], [], F, set()),
    ],
)
def test_a_waived_gate_counts_as_passing(
    results: list[tuple[str, Outcome]], waived: list[str], outcome: Outcome, marked: set[str]
) -> None:
    verdict = apply_waivers(_verdict(*results), [_waiver(g, 2) for g in waived], NOW)
    assert verdict.outcome is outcome
    assert verdict.waived == marked
    for r in verdict.results:
        if r.gate in marked:
            assert r.reason.startswith(
                "waived by Maria until 2026-12-06 09:00 UTC (why); it evaluates as"
            )


def test_an_expired_waiver_lets_the_gate_evaluate_again() -> None:
    verdict = _verdict(("a", P), ("b", F))
    waiver = _waiver("b", 2)
    assert apply_waivers(verdict, [waiver], NOW + timedelta(days=1)).outcome is P
    assert apply_waivers(verdict, [waiver], NOW + timedelta(days=2)).outcome is F


# --------------------------------------------------------------------------- blackouts

QUARTER = (date(2026, 12, 1), date(2026, 12, 10), "quarter close")
AUDIT = (date(2026, 12, 8), date(2026, 12, 20), "")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 30), None),
        (date(2026, 12, 1), QUARTER),  # both ends are inside
        (date(2026, 12, 10), AUDIT),  # overlapping: the one that ends last
        (date(2026, 12, 20), AUDIT),
        (date(2026, 12, 21), None),
    ],
)
def test_the_blackout_a_day_falls_in(today: date, expected: object) -> None:
    assert blackout_on([QUARTER, AUDIT], today) == expected


def _decision(action: Action) -> Decision:
    here = DeptState("piloting", Status.active)
    after = DeptState("scaling", Status.active) if action is Action.advance else here
    if action is Action.block:
        after = DeptState("piloting", Status.blocked)
    return Decision("hr", action, here, after, _verdict(("a", P)), 0, "all gates pass")


@pytest.mark.parametrize(
    ("action", "blackout", "expected"),
    [
        (Action.advance, QUARTER, Action.hold),
        (Action.advance, None, Action.advance),
        (Action.hold, QUARTER, Action.hold),
        (Action.block, QUARTER, Action.block),  # stopping is never held back
        (Action.monitor, QUARTER, Action.monitor),
        (Action.skip, QUARTER, Action.skip),
    ],
)
def test_a_blackout_holds_only_the_advance(
    action: Action, blackout: tuple[date, date, str] | None, expected: Action
) -> None:
    decision = in_blackout(_decision(action), blackout)
    assert decision.action is expected
    if expected is not action:
        assert decision.after == decision.before
        assert decision.reason.startswith("in blackout until 2026-12-10 (quarter close)")


@pytest.mark.parametrize(
    ("events", "blackout", "sent"),
    [
        (["gate_held", "department_blocked"], QUARTER, ["department_blocked"]),
        (["training_reminder", "gate_stuck", "gate_waived"], QUARTER, ["gate_waived"]),
        (["gate_held", "training_reminder"], None, ["gate_held", "training_reminder"]),
    ],
)
def test_in_a_blackout_only_urgent_messages_go(
    events: list[str], blackout: tuple[date, date, str] | None, sent: list[str]
) -> None:
    messages = [Message(e, "p", "about", "hr") for e in events]
    assert [m.event for m in quiet(messages, blackout)] == sent


@pytest.mark.parametrize("action", list(Action))
def test_a_paused_program_skips_every_department(action: Action) -> None:
    decision = paused(_decision(action))
    assert decision.action is Action.skip
    assert decision.after == decision.before


# --------------------------------------------------------------------------- overrides

METRIC = MetricGate(
    name="m", kind="metric", title="t", owner="lead", metric="x", threshold=0.5, min_samples=3
)
TRAINING = TrainingGate(name="t", kind="training", title="t", owner="lead", min_completion=0.8)
SOAK = SoakGate(name="s", kind="soak", title="t", owner="lead", duration=timedelta(days=7))


@pytest.mark.parametrize(
    ("gate", "override", "changed"),
    [
        (METRIC, {"threshold": 0.7}, {"threshold": 0.7}),
        (
            METRIC,
            {"window": "2w", "min_samples": 5},
            {"window": timedelta(days=14), "min_samples": 5},
        ),
        (TRAINING, {"threshold": 0.6}, {"min_completion": 0.6}),
        (METRIC, {}, {}),
    ],
)
def test_an_override_replaces_the_gates_own_number(
    gate: object, override: dict[str, object], changed: dict[str, object]
) -> None:
    after = apply_override(gate, GateOverride.model_validate(override))
    for field, value in changed.items():
        assert getattr(after, field) == value
    assert override_problems(gate, GateOverride.model_validate(override)) == []


@pytest.mark.parametrize(
    ("gate", "override", "field"),
    [
        (SOAK, {"threshold": 1}, "threshold"),
        (TRAINING, {"window": "1w"}, "window"),
        (TRAINING, {"threshold": 1.5}, "threshold"),
    ],
)
def test_an_override_a_gate_cannot_take_is_a_problem(
    gate: object, override: dict[str, object], field: str
) -> None:
    problems = override_problems(gate, GateOverride.model_validate(override))
    assert [f for f, _ in problems] == [field]
