"""`failure_limit` consecutive failing checks block a department and escalate.

The department starts in its final phase (`initial_phase: operating`), whose only gate
is the weekly-active metric, so one observation feed decides each check's outcome.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from pilotscale.core.decisions import Action
from pilotscale.core.phases import Event
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import CheckReport, run_readiness_check
from pilotscale.engine.operator import operate
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, SUPPORT, plan_dict

DEPT = "d001"
LOW = [0.1, 0.2, 0.3]  # avg 0.2 < 0.5: fails


@pytest.fixture
def operating(engine: Engine) -> Engine:
    data = plan_dict(1, failure_limit=3)
    data["departments"][0]["initial_phase"] = "operating"
    h.apply(engine, data)
    return engine


def check(engine: Engine, at: datetime, *, low: bool = False) -> CheckReport:
    if low:
        h.observe(engine, DEPT, LOW, start=at - timedelta(hours=5))
    return run_readiness_check(engine=engine, now=at)


def action(report: CheckReport) -> Action:
    (decision,) = report.decisions
    return decision.action


def failures(engine: Engine) -> int:
    return h.department(engine, DEPT).consecutive_failures


def test_three_failing_checks_block_and_escalate_to_sponsor_and_lead(operating: Engine) -> None:
    assert action(check(operating, h.day(1), low=True)) is Action.hold
    assert action(check(operating, h.day(2))) is Action.hold
    assert h.outbox(operating, event="monitoring_regressed") == []

    report = check(operating, h.day(3))

    assert action(report) is Action.block
    assert h.states(operating)[DEPT] == ("operating", "blocked")
    blocked = h.outbox(operating, event="monitoring_regressed")
    # The last phase's monitoring regressed: the gate's owner is told too (one message
    # each, instead of department_blocked; see test_regression.py).
    assert {n.recipient_key for n in blocked} == {"d001-sponsor", LEAD, SUPPORT["adoption"]}
    context = h.context(blocked[0])
    assert (context["failures"], context["failure_limit"]) == (3, 3)
    assert [g["gate"] for g in context["gates"]] == ["weekly-active"]
    assert context["gates"][0]["outcome"] == "fail"
    block = h.transitions(operating, DEPT)[-1]
    assert (block.event, block.actor, block.to_status) == ("block", "scheduler", "blocked")

    # Blocked departments are skipped: no more checks, no more messages.
    before = h.store_state(operating)
    assert action(check(operating, h.day(4), low=True)) is Action.skip
    after = h.store_state(operating)
    assert after["notifications"] == before["notifications"]
    assert after["gate_results"] == before["gate_results"]


def test_the_same_check_run_again_counts_once(operating: Engine) -> None:
    for hours in (0, 1, 5, 12):
        check(operating, h.day(1) + timedelta(hours=hours), low=hours == 0)
    assert failures(operating) == 1
    check(operating, h.day(2))
    check(operating, h.day(2) + timedelta(hours=3))
    assert failures(operating) == 2
    assert h.states(operating)[DEPT] == ("operating", "active")
    assert h.outbox(operating, event="monitoring_regressed") == []


def test_pending_checks_neither_count_nor_reset(operating: Engine) -> None:
    check(operating, h.day(1), low=True)
    check(operating, h.day(2))
    assert failures(operating) == 2

    # A week later the observations have left the 1w window: no data, pending.
    report = check(operating, h.day(9))
    (decision,) = report.decisions
    assert decision.verdict is not None
    assert str(decision.verdict.outcome) == "pending"
    assert failures(operating) == 2
    check(operating, h.day(10))
    assert failures(operating) == 2

    assert action(check(operating, h.day(11), low=True)) is Action.block


def test_a_passing_check_resets_the_count(operating: Engine) -> None:
    check(operating, h.day(1), low=True)
    check(operating, h.day(2))
    h.observe(operating, DEPT, [0.99] * 6, start=h.day(3) - timedelta(hours=8))
    assert action(check(operating, h.day(3))) is Action.monitor
    assert failures(operating) == 0

    check(operating, h.day(11), low=True)
    check(operating, h.day(12))
    assert failures(operating) == 2
    assert h.states(operating)[DEPT] == ("operating", "active")


def test_resuming_a_blocked_department_counts_from_zero(operating: Engine) -> None:
    for n in (1, 2, 3):
        check(operating, h.day(n), low=n == 1)
    assert h.states(operating)[DEPT] == ("operating", "blocked")

    operate(
        engine=operating,
        department=DEPT,
        event=Event.resume,
        actor=cli_actor(LEAD),
        reason="usage campaign planned",
        now=h.day(3) + timedelta(hours=4),
    )
    assert failures(operating) == 0

    # The blocking check's day again: the failure it counted is not counted a second time.
    check(operating, h.day(3) + timedelta(hours=6))
    assert failures(operating) == 0
    check(operating, h.day(4))
    check(operating, h.day(5))
    assert failures(operating) == 2
    assert h.states(operating)[DEPT] == ("operating", "active")


def test_a_pending_check_rerun_once_the_data_is_in_counts_its_failure(operating: Engine) -> None:
    """The morning check finds no data (pending: not counted); the data arrives and the
    lead runs the same day's check again: it fails, and that failure counts."""
    check(operating, h.day(1))
    assert failures(operating) == 0

    check(operating, h.day(1) + timedelta(hours=3), low=True)
    assert failures(operating) == 1
    check(operating, h.day(1) + timedelta(hours=4))
    assert failures(operating) == 1
