"""Guarded operation, by table: what the failure_limit-th failing check decides, by phase
and by the plan's on_regression."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotscale.core.decisions import Action, DepartmentSnapshot, decide
from pilotscale.core.facts import DepartmentFacts, MetricAggregate, metric_key
from pilotscale.core.gates import GateResult, PhaseVerdict
from pilotscale.core.phases import DeptState, PhaseMachine
from pilotscale.core.regression import gate_streaks, regressed_gates, rollback_target
from pilotscale.core.states import Outcome, Status
from pilotscale.plan.schema import Plan
from tests.plans import plan_dict

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ACTIVE, BLOCKED, ROLLED_BACK = Status.active, Status.blocked, Status.rolled_back


def _plan(rollback_to: str | None) -> Plan:
    data = plan_dict(1, failure_limit=3)
    if rollback_to is not None:
        data["phases"][-1]["on_regression"] = {"rollback_to": rollback_to}
    # Validated without the cross-checks, as a stored plan is read: a bad target must
    # still decide something safe.
    return Plan.model_validate(data)


def _facts(avg: float) -> DepartmentFacts:
    weekly = MetricAggregate(count=3, total=avg * 3, minimum=avg, maximum=avg, last_value=avg)
    return DepartmentFacts(
        department="d001",
        phase_entered_at=NOW - timedelta(days=30),
        metrics={metric_key("weekly_active_rate", timedelta(weeks=1)): weekly},
    )


@pytest.mark.parametrize(
    ("phase", "rollback_to", "before_failures", "avg", "action", "after"),
    [
        # The last phase at the limit: rolled back where the plan says, else blocked.
        ("operating", "scaling", 2, 0.2, Action.rollback, ("scaling", ROLLED_BACK)),
        ("operating", "planned", 2, 0.2, Action.rollback, ("planned", ACTIVE)),  # not started
        ("operating", None, 2, 0.2, Action.block, ("operating", BLOCKED)),
        # A target that is not earlier (a plan the cross-checks would refuse): blocked.
        ("operating", "operating", 2, 0.2, Action.block, ("operating", BLOCKED)),
        ("operating", "nowhere", 2, 0.2, Action.block, ("operating", BLOCKED)),
        # Below the limit, or passing: no regression.
        ("operating", "scaling", 1, 0.2, Action.hold, ("operating", ACTIVE)),
        ("operating", "scaling", 2, 0.9, Action.monitor, ("operating", ACTIVE)),
        # Before the last phase on_regression does nothing: the limit blocks as ever.
        ("scaling", "scaling", 2, 0.2, Action.block, ("scaling", BLOCKED)),
    ],
)
def test_what_the_limit_decides(
    phase: str,
    rollback_to: str | None,
    before_failures: int,
    avg: float,
    action: Action,
    after: tuple[str, Status],
) -> None:
    plan = _plan(rollback_to)
    if phase == "scaling":  # a gate the facts decide, so the phase can fail
        plan = Plan.model_validate(
            {
                **plan.model_dump(mode="json"),
                "phases": [
                    {**p, "exit_gates": ["weekly-active"]} if p["name"] == "scaling" else p
                    for p in plan.model_dump(mode="json")["phases"]
                ],
            }
        )
    machine = PhaseMachine(plan.phase_names())
    snapshot = DepartmentSnapshot(
        "d001",
        DeptState(phase, ACTIVE),
        consecutive_failures=before_failures,
        gate_failures={"weekly-active": before_failures},
    )

    decision = decide(
        plan=plan,
        machine=machine,
        snapshot=snapshot,
        facts=_facts(avg),
        now=NOW,
        check_key="2026-11-20",
    )

    assert decision.action is action, decision.reason
    assert (decision.after.phase, decision.after.status) == after
    if phase == "operating" and action in (Action.rollback, Action.block):
        assert decision.reason.startswith("monitoring regressed: 3 consecutive failing checks")
        assert "weekly-active: 0.20 (3 samples), needs >= 0.50" in decision.reason


def test_only_the_last_phase_has_a_rollback_target() -> None:
    plan = _plan("scaling")
    machine = PhaseMachine(plan.phase_names())
    assert rollback_target(plan, machine, DeptState("operating", ACTIVE)) == "scaling"
    assert rollback_target(plan, machine, DeptState("scaling", ACTIVE)) is None


# --------------------------------------------------------------------------- per gate

F, P, OK = Outcome.failed, Outcome.pending, Outcome.passed


def _verdict(
    *outcomes: tuple[str, Outcome], advisory: frozenset[str] = frozenset()
) -> PhaseVerdict:
    results = tuple(GateResult(g, "metric", o, None, "x", "y", "why") for g, o in outcomes)
    overall = F if any(o is F and g not in advisory for g, o in outcomes) else OK
    return PhaseVerdict(overall, results, advisory=advisory)


@pytest.mark.parametrize(
    ("recorded", "outcomes", "advisory", "streaks", "regressed"),
    [
        # The same gate, the third check in a row: regressed.
        ({"a": 2}, [("a", F)], frozenset(), {"a": 3}, ["a"]),
        # A different gate each check: each has a run of one, nothing regresses.
        ({"b": 1}, [("a", F), ("b", OK)], frozenset(), {"a": 1}, []),
        ({"a": 1, "b": 1}, [("c", F)], frozenset(), {"c": 1}, []),
        # Two gates at once, one at the limit: only that one is named.
        ({"a": 2, "b": 1}, [("a", F), ("b", F)], frozenset(), {"a": 3, "b": 2}, ["a"]),
        ({"a": 5, "b": 2}, [("a", F), ("b", F)], frozenset(), {"a": 6, "b": 3}, ["a", "b"]),
        # Passing or pending now: no run this check (pending is held, never regressed).
        ({"a": 2}, [("a", OK)], frozenset(), {}, []),
        ({"a": 2}, [("a", P), ("b", F)], frozenset(), {"b": 1}, []),
        # An advisory gate never regresses, however long it fails.
        ({"a": 9}, [("a", F), ("b", F)], frozenset({"a"}), {"b": 1}, []),
    ],
    ids=[
        "same gate third time",
        "another gate",
        "a new gate",
        "two gates, one at the limit",
        "two gates at the limit",
        "passing now",
        "pending now",
        "advisory",
    ],
)
def test_a_regression_is_one_gate_failing_limit_checks_in_a_row(
    recorded: dict[str, int],
    outcomes: list[tuple[str, Outcome]],
    advisory: frozenset[str],
    streaks: dict[str, int],
    regressed: list[str],
) -> None:
    verdict = _verdict(*outcomes, advisory=advisory)

    assert gate_streaks(recorded, verdict, at_most=99) == streaks
    assert regressed_gates(recorded, verdict, 3, at_most=99) == regressed


def test_no_gate_runs_longer_than_the_department_a_resume_restarts_both() -> None:
    verdict = _verdict(("a", F))

    # Resumed after a block: the department counts from zero, so this is its first.
    assert gate_streaks({"a": 2}, verdict, at_most=1) == {"a": 1}
    assert regressed_gates({"a": 2}, verdict, 3, at_most=1) == []


@pytest.mark.parametrize(
    ("consecutive", "gate_failures", "action"),
    [
        # Three failing checks of the department, but never the same gate three times.
        (2, {}, Action.hold),
        (5, {"weekly-active": 1}, Action.hold),
        # weekly-active's own third failing check.
        (2, {"weekly-active": 2}, Action.rollback),
    ],
)
def test_the_departments_count_alone_does_not_regress_it(
    consecutive: int, gate_failures: dict[str, int], action: Action
) -> None:
    plan = _plan("scaling")
    snapshot = DepartmentSnapshot(
        "d001",
        DeptState("operating", ACTIVE),
        consecutive_failures=consecutive,
        gate_failures=gate_failures,
    )

    decision = decide(
        plan=plan,
        machine=PhaseMachine(plan.phase_names()),
        snapshot=snapshot,
        facts=_facts(0.2),
        now=NOW,
        check_key="2026-11-20",
    )

    assert decision.action is action, decision.reason
    if action is Action.rollback:
        assert decision.consecutive_failures == 3
        assert "weekly-active: 0.20 (3 samples)" in decision.reason
