"""Operator controls: who may pause, resume, abort and roll back; every change audited;
paused and blocked departments skipped by checks; rollback re-runs nothing."""

from __future__ import annotations

import os
import pwd
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from pilotscale.core.decisions import Action
from pilotscale.core.duties import ReasonRequired
from pilotscale.core.permissions import NotAllowed
from pilotscale.core.phases import DeptState, Event, TransitionError
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import apply_check, prepare_check, run_readiness_check
from tests.pilotscale.engine import helpers as h
from tests.plans import DEPUTY, EXEC, LEAD, OUTSIDER, plan_dict

DEPT = "d001"


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    h.into_piloting(engine, plan_dict(2))
    return engine


def operate(
    engine: Engine,
    event: Event,
    by: str,
    *,
    reason: str = "support team on leave",
    at: datetime = h.day(3),
    target: str | None = None,
    dept: str = DEPT,
) -> DeptState:
    return operator.operate(
        engine=engine,
        department=dept,
        event=event,
        actor=cli_actor(by),
        reason=reason,
        now=at,
        target=target,
    )


@pytest.mark.parametrize(
    ("event", "target", "allowed", "refused"),
    [
        (Event.pause, None, [LEAD, DEPUTY, "d001-sponsor"], ["d002-sponsor", EXEC, "d001-champ1"]),
        (Event.abort, None, [LEAD, DEPUTY], ["d001-sponsor", OUTSIDER, "d001-champ1"]),
        (Event.rollback, "preparing", [LEAD, DEPUTY], ["d001-sponsor", OUTSIDER, EXEC]),
    ],
)
def test_only_leads_and_for_pause_and_resume_the_sponsor_may_operate(
    piloting: Engine, event: Event, target: str | None, allowed: list[str], refused: list[str]
) -> None:
    for who in refused:
        with pytest.raises(NotAllowed, match="may not"):
            operate(piloting, event, f"{who}@example.com", target=target)
    assert h.events(piloting, DEPT) == ["apply", "start", "advance"]

    for n, who in enumerate(allowed):
        at = h.day(3 + n)
        operate(piloting, event, who, target=target, at=at)
        last = h.transitions(piloting, DEPT)[-1]
        assert (last.event, last.actor, last.reason, last.at) == (
            event.value,
            who,
            "support team on leave",
            at,
        )
        assert last.os_user == pwd.getpwuid(os.getuid()).pw_name
        # Put it back for the next person (resume needs a lead or the sponsor as well).
        if event is not Event.pause:
            if event is Event.abort:  # an aborted department restarts by a rollback
                operate(piloting, Event.rollback, LEAD, target="preparing", at=at)
            operate(piloting, Event.resume, LEAD, at=at)
            h.prepare_passes(piloting, DEPT, now=at)
            run_readiness_check(engine=piloting, now=at + timedelta(hours=1))
        else:
            operate(piloting, Event.resume, "d001-sponsor", at=at)
        assert h.states(piloting)[DEPT] == ("piloting", "active")


def test_a_reason_is_required(piloting: Engine) -> None:
    with pytest.raises(ReasonRequired, match="reason"):
        operate(piloting, Event.pause, LEAD, reason="  ")
    assert h.states(piloting)[DEPT] == ("piloting", "active")


def test_paused_departments_are_skipped_until_resumed(piloting: Engine) -> None:
    operate(piloting, Event.pause, "d001-sponsor")
    before = h.store_state(piloting)

    report = run_readiness_check(engine=piloting, now=h.day(10))

    (decision,) = [d for d in report.decisions if d.department == DEPT]
    assert decision.action is Action.skip
    assert h.store_state(piloting) == before  # no gate results, no messages, no bookkeeping

    operate(piloting, Event.resume, "d001-sponsor", at=h.day(11))
    h.pilot_passes(piloting, DEPT, now=h.day(11))
    run_readiness_check(engine=piloting, now=h.day(11))
    assert h.states(piloting)[DEPT] == ("scaling", "active")


def test_rollback_returns_to_a_named_earlier_phase_and_reruns_nothing(piloting: Engine) -> None:
    h.pilot_passes(piloting, DEPT, now=h.day(10))
    run_readiness_check(engine=piloting, now=h.day(10))
    assert h.states(piloting)[DEPT] == ("scaling", "active")
    done = h.store_state(piloting)

    after = operate(piloting, Event.rollback, LEAD, target="piloting", at=h.day(11))

    assert (after.phase, str(after.status)) == ("piloting", "rolled_back")
    now = h.store_state(piloting)
    # Only the department row and its history changed: nothing was assigned or sent again.
    for part in ("notifications", "training", "onboarding", "gate_results"):
        assert now[part] == done[part], part
    row = h.department(piloting, DEPT)
    assert row.phase_entered_at == h.day(11)

    # Rolled back waits for a resume; then the new visit needs its own evidence.
    assert run_readiness_check(engine=piloting, now=h.day(12)).decisions[0].action is Action.skip
    operate(piloting, Event.resume, LEAD, at=h.day(12))
    h.pilot_passes(piloting, DEPT, now=h.day(19))
    run_readiness_check(engine=piloting, now=h.day(19))
    assert h.states(piloting)[DEPT] == ("scaling", "active")
    again = h.store_state(piloting)
    assert again["training"] == done["training"]  # casual users were not assigned twice
    assert h.events(piloting, DEPT)[-3:] == ["rollback", "resume", "advance"]


def test_rollback_needs_an_earlier_phase(piloting: Engine) -> None:
    with pytest.raises(TransitionError, match="not earlier than its current phase"):
        operate(piloting, Event.rollback, LEAD, target="operating")
    with pytest.raises(TransitionError, match="there is no phase 'pilot'"):
        operate(piloting, Event.rollback, LEAD, target="pilot")
    with pytest.raises(TransitionError, match="name the phase"):
        operate(piloting, Event.rollback, LEAD, target=None)
    assert h.events(piloting, DEPT) == ["apply", "start", "advance"]


def test_an_operator_change_racing_a_check_wins(piloting: Engine) -> None:
    """A pause written between a check's read and its write wins: the check leaves the
    department to the next run instead of advancing a paused department."""
    h.pilot_passes(piloting, DEPT, now=h.day(10))
    prepared = prepare_check(engine=piloting, now=h.day(10))
    operate(piloting, Event.pause, LEAD, at=h.day(10))

    report = apply_check(engine=piloting, prepared=prepared)

    assert report.conflicts == [DEPT]
    assert h.states(piloting)[DEPT] == ("piloting", "paused")
    assert h.recipients(piloting, "department_advanced", about="d001:scaling") == set()
