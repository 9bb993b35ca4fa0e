"""Guarded operation, by table: what the failure_limit-th failing check decides, by phase
and by the plan's on_regression."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotscale.core.decisions import Action, DepartmentSnapshot, decide
from pilotscale.core.facts import DepartmentFacts, MetricAggregate, metric_key
from pilotscale.core.phases import DeptState, PhaseMachine
from pilotscale.core.regression import rollback_target
from pilotscale.core.states import Status
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
        "d001", DeptState(phase, ACTIVE), consecutive_failures=before_failures
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
