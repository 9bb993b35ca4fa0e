"""Approvals: identity and policy from the plan, one per approver and phase visit, and
requests that escalate to the sponsor instead of waiting silently."""

from __future__ import annotations

import os
import pwd
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.permissions import NotAllowed
from pilotscale.core.phases import Event
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.models import Approval
from tests.pilotscale.engine import helpers as h
from tests.plans import DEPUTY, EXEC, LEAD, OUTSIDER, plan_dict

DEPT = "d001"
GATE = "go-ahead"


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    h.into_piloting(engine)
    return engine


def approve(engine: Engine, by: str, *, at: datetime = h.day(3), dept: str = DEPT) -> operator.Done:
    return operator.approve(
        engine=engine, department=dept, gate=GATE, actor=cli_actor(by), comment="looks good", now=at
    )


def approvals(engine: Engine) -> list[Approval]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(Approval)))


def go_ahead(engine: Engine, at: datetime) -> str:
    """The go-ahead gate's outcome in the check at `at` (every other gate made to pass)."""
    h.observe(engine, DEPT, [0.9, 0.9, 0.9], start=at - timedelta(hours=4))
    report = run_readiness_check(engine=engine, now=at)
    (decision,) = [d for d in report.decisions if d.department == DEPT]
    assert decision.verdict is not None
    return next(str(r.outcome) for r in decision.verdict.results if r.gate == GATE)


@pytest.mark.parametrize(
    "who",
    [
        "d001-sponsor@example.com",  # the department's sponsor is not an approver
        "d001-champ1",
        f"{DEPUTY}@example.com",  # a lead, but not named as approver of this gate
        f"{OUTSIDER}@example.com",
        "nobody@example.com",  # not in the plan at all
    ],
)
def test_anyone_but_the_named_approvers_is_refused_and_nothing_recorded(
    piloting: Engine, who: str
) -> None:
    with pytest.raises(NotAllowed) as refused:
        approve(piloting, who)

    assert approvals(piloting) == []
    if "nobody" not in who:
        assert "lead@example.com" in str(refused.value)  # says who may approve


def test_an_approver_is_recorded_with_the_os_user(piloting: Engine) -> None:
    done = approve(piloting, "EXEC@example.com", at=h.day(3))

    assert done.changed
    (row,) = approvals(piloting)
    assert (row.approver_key, row.gate, row.phase, row.comment) == (
        EXEC,
        GATE,
        "piloting",
        "looks good",
    )
    assert row.os_user == pwd.getpwuid(os.getuid()).pw_name
    assert row.approved_at == h.day(3)
    assert row.phase_entered_at == h.PILOTING_AT


def test_approving_again_is_a_no_op(piloting: Engine) -> None:
    approve(piloting, LEAD)
    again = approve(piloting, f"{LEAD}@example.com", at=h.day(4))

    assert not again.changed
    assert "already approved" in again.message
    assert [a.approver_key for a in approvals(piloting)] == [LEAD]


def test_a_gate_of_another_phase_is_refused(engine: Engine) -> None:
    h.apply(engine, plan_dict(1))
    h.start(engine, [DEPT])  # preparing: go-ahead belongs to piloting

    with pytest.raises(operator.Refused, match="belongs to phase 'piloting'"):
        approve(engine, LEAD)
    assert approvals(engine) == []


def test_a_gate_that_is_not_an_approval_is_refused(piloting: Engine) -> None:
    with pytest.raises(NotAllowed, match="not an approval gate"):
        operator.approve(
            engine=piloting,
            department=DEPT,
            gate="guardrails",
            actor=cli_actor(LEAD),
            comment="",
            now=h.day(3),
        )


def test_approvals_of_an_earlier_visit_do_not_count_after_a_rollback(piloting: Engine) -> None:
    h.complete(piloting, DEPT, "power", now=h.day(3))
    h.attest(piloting, DEPT, "guardrails", now=h.day(3))
    approve(piloting, LEAD, at=h.day(3))
    assert go_ahead(piloting, h.day(4)) == "pass"  # (the soak holds it in piloting)

    for event, target in ((Event.rollback, "preparing"), (Event.resume, None)):
        operator.operate(
            engine=piloting,
            department=DEPT,
            event=event,
            actor=cli_actor(LEAD),
            reason="answer quality dropped",
            now=h.day(5),
            target=target,
        )
    h.attest(piloting, DEPT, "use-cases", now=h.day(5))  # attestations are per visit too
    run_readiness_check(engine=piloting, now=h.day(6))
    assert h.states(piloting)[DEPT] == ("piloting", "active")

    h.attest(piloting, DEPT, "guardrails", now=h.day(6))
    assert go_ahead(piloting, h.day(14)) == "pending"
    assert len(approvals(piloting)) == 1  # kept in history, not counted

    approve(piloting, LEAD, at=h.day(14))
    assert go_ahead(piloting, h.day(15)) == "pass"
    assert h.states(piloting)[DEPT] == ("scaling", "active")


# --------------------------------------------------------------------------- escalation


@pytest.fixture
def waiting(piloting: Engine) -> Engine:
    """Piloting, with every gate but the approval passing from day 3 on."""
    h.complete(piloting, DEPT, "power", now=h.day(3))
    h.attest(piloting, DEPT, "guardrails", now=h.day(3))
    return piloting


def check(engine: Engine, at: datetime) -> None:
    h.observe(engine, DEPT, [0.9, 0.9, 0.9], start=at - timedelta(hours=4))
    report = run_readiness_check(engine=engine, now=at)
    assert [str(d.action) for d in report.decisions] == ["hold"]


def sent(engine: Engine, *events: str) -> dict[str, int]:
    return {e: len(h.outbox(engine, event=e)) for e in events}


def test_unanswered_requests_escalate_to_the_sponsor_after_escalate_after(
    waiting: Engine,
) -> None:
    # The first check that finds the gate waiting asks the approvers (9d after entering).
    first = h.day(11)
    check(waiting, first)
    assert h.recipients(waiting, "approval_requested") == {LEAD, EXEC}
    requested = h.context(h.outbox(waiting, event="approval_requested")[0])
    assert {p["id"] for p in requested["waiting_for"]} == {LEAD, EXEC}

    # escalate_after is 3d from the first request, not from entering the phase.
    for later in (first + timedelta(days=1), first + timedelta(days=2, hours=23)):
        check(waiting, later)
    assert sent(waiting, "approval_escalation", "approval_reminder", "approval_requested") == {
        "approval_escalation": 0,
        "approval_reminder": 0,
        "approval_requested": 2,  # asked once
    }

    check(waiting, first + timedelta(days=3))
    assert h.recipients(waiting, "approval_escalation") == {"d001-sponsor"}
    assert h.recipients(waiting, "approval_reminder") == {LEAD, EXEC}
    escalation = h.context(h.outbox(waiting, event="approval_escalation")[0])
    assert escalation["gate"]["gate"] == GATE

    # Answered: the department advances; nobody is reminded, the sponsor hears no more.
    before = sent(waiting, "approval_escalation", "approval_reminder", "approval_requested")
    approve(waiting, EXEC, at=first + timedelta(days=3, hours=2))
    h.observe(waiting, DEPT, [0.9, 0.9, 0.9], start=first + timedelta(days=3, hours=3))
    run_readiness_check(engine=waiting, now=first + timedelta(days=4))
    assert h.states(waiting)[DEPT] == ("scaling", "active")
    assert sent(waiting, *before) == before


def test_escalation_repeats_once_per_check_while_unanswered(waiting: Engine) -> None:
    first = h.day(11)
    for n in range(6):
        check(waiting, first + timedelta(days=n))
        check(waiting, first + timedelta(days=n, hours=1))  # the same check, re-run

    # The checks 3, 4 and 5 days after the first request escalate, each once.
    assert sent(waiting, "approval_escalation", "approval_reminder") == {
        "approval_escalation": 3,
        "approval_reminder": 6,
    }
