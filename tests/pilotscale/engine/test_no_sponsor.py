"""A department applied without a sponsor (--allow-incomplete): whatever its sponsor would
hear, and whatever a gate owned by 'sponsor' asks, reaches the program lead instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, LEAD, plan_dict

DEPT = "d001"


@pytest.fixture
def unsponsored(engine: Engine) -> Engine:
    """d001 without a sponsor, taken into piloting: its 'sponsor'-owned gate is the lead's."""
    data = plan_dict(2)
    del data["departments"][0]["sponsor"]
    h.apply(engine, data)
    h.start(engine, [DEPT])
    for champion in ("champ1", "champ2"):
        operator.acknowledge(
            engine=engine, department=DEPT, actor=cli_actor(f"{DEPT}-{champion}"), now=h.day(1)
        )
    operator.attest(
        engine=engine,
        department=DEPT,
        gate="use-cases",
        actor=cli_actor(LEAD),
        evidence="wiki/page",
        now=h.day(1),
    )
    run_readiness_check(engine=engine, now=h.PILOTING_AT)
    assert h.states(engine)[DEPT] == ("piloting", "active")
    return engine


def test_the_welcome_kit_and_the_announcement_name_the_lead(unsponsored: Engine) -> None:
    kit = h.context(h.outbox(unsponsored, event="champion_welcome")[0])
    assert kit["sponsor"]["id"] == LEAD
    assert LEAD in h.recipients(unsponsored, "department_advanced")


def test_an_unanswered_approval_escalates_to_the_lead(unsponsored: Engine) -> None:
    h.complete(unsponsored, DEPT, "power", now=h.day(3))
    h.attest(unsponsored, DEPT, "guardrails", now=h.day(3))
    first = h.day(11)
    for at in (first, first + timedelta(days=3)):
        h.observe(unsponsored, DEPT, [0.9, 0.9, 0.9], start=at - timedelta(hours=4))
        report = run_readiness_check(engine=unsponsored, now=at)
        assert [str(d.action) for d in report.decisions if d.department == DEPT] == ["hold"]

    # Reminders and escalations go out in each person's one message of the check.
    assert h.told_to(unsponsored, "approval_escalation") == {LEAD}
    assert h.told_to(unsponsored, "approval_reminder") == {LEAD, EXEC}


def test_a_blocked_department_alerts_the_lead(unsponsored: Engine) -> None:
    # Three failing checks (failure_limit 3) block it: the lead hears, once.
    for n in (10, 17, 24):
        h.observe(unsponsored, DEPT, [0.1, 0.1, 0.1], start=h.day(n) - timedelta(hours=4))
        run_readiness_check(engine=unsponsored, now=h.day(n))

    assert h.states(unsponsored)[DEPT][1] == "blocked"
    assert h.recipients(unsponsored, "department_blocked") == {LEAD}
