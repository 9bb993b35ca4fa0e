"""A gate pending at `pending_limit` checks in a row is stuck: shown, and escalated once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, plan_dict

DEPT = "d001"
CHECK = h.day(10)
WEEK = timedelta(days=7)


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    h.into_piloting(engine)
    # Everything but the approval, which stays pending (nobody answers).
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=CHECK - timedelta(hours=5))
    h.complete(engine, DEPT, "power", now=CHECK - timedelta(hours=1))
    h.attest(engine, DEPT, "guardrails", now=CHECK - timedelta(hours=1))
    return engine


def _keep_metric_fresh(engine: Engine, week: int) -> None:
    at = CHECK + week * WEEK
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=at - timedelta(hours=5))


def _stuck_now(engine: Engine, week: int) -> list[tuple[str, int]]:
    with Session(engine) as session:
        view = load_view(session=session, program=None)
        verdicts = read_verdicts(session=session, view=view, now=CHECK + week * WEEK)
    return [(g.gate, g.pending_checks) for g in verdicts[DEPT].stuck]


def test_a_gate_pending_at_three_checks_tells_sponsor_and_lead_once(piloting: Engine) -> None:
    sponsor = f"{DEPT}-sponsor"
    for week in (0, 1):
        _keep_metric_fresh(piloting, week)
        run_readiness_check(engine=piloting, now=CHECK + week * WEEK)
        assert h.told(piloting, event="gate_stuck") == [], f"week {week}: not yet"
    assert _stuck_now(piloting, 1) == []

    _keep_metric_fresh(piloting, 2)
    run_readiness_check(engine=piloting, now=CHECK + 2 * WEEK)
    stuck = h.told(piloting, event="gate_stuck")
    assert {n.recipient_key for n in stuck} == {sponsor, LEAD}
    assert {h.context(n)["checks"] for n in stuck} == {3}
    assert {h.context(n)["gate"]["gate"] for n in stuck} == {"go-ahead"}
    # status, explain and the report read the same verdicts: the gate shows as stuck.
    assert _stuck_now(piloting, 2) == [("go-ahead", 3)]

    # The same check again, and the next week's: nothing more for this visit.
    run_readiness_check(engine=piloting, now=CHECK + 2 * WEEK + timedelta(hours=2))
    _keep_metric_fresh(piloting, 3)
    run_readiness_check(engine=piloting, now=CHECK + 3 * WEEK)
    assert len(h.told(piloting, event="gate_stuck")) == 2
    assert _stuck_now(piloting, 3) == [("go-ahead", 4)]


def test_a_result_that_is_not_pending_restarts_the_count(piloting: Engine) -> None:
    for week in (0, 1):
        _keep_metric_fresh(piloting, week)
        run_readiness_check(engine=piloting, now=CHECK + week * WEEK)
    # Week 2: the metric has no fresh data, so the weekly-active gate pends too; then the
    # approval pends a third time, while weekly-active has pended only once.
    run_readiness_check(engine=piloting, now=CHECK + 2 * WEEK)
    recipients = {h.context(n)["gate"]["gate"] for n in h.told(piloting, event="gate_stuck")}
    assert recipients == {"go-ahead"}


def test_a_gate_can_set_its_own_limit(engine: Engine) -> None:
    data = plan_dict(1)
    for gate in data["gates"]:
        if gate["name"] == "go-ahead":
            gate["pending_limit"] = 1
    h.into_piloting(engine, data)
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=CHECK - timedelta(hours=5))
    h.complete(engine, DEPT, "power", now=CHECK - timedelta(hours=1))
    h.attest(engine, DEPT, "guardrails", now=CHECK - timedelta(hours=1))
    run_readiness_check(engine=engine, now=CHECK)
    assert {h.context(n)["checks"] for n in h.told(engine, event="gate_stuck")} == {1}


def test_status_explain_and_the_report_say_stuck(piloting: Engine) -> None:
    from pilotscale.report.data import build_report
    from pilotscale.report.html import render_html

    for week in (0, 1, 2):
        _keep_metric_fresh(piloting, week)
        run_readiness_check(engine=piloting, now=CHECK + week * WEEK)
    with Session(piloting) as session:
        view = load_view(session=session, program=None)
        verdicts = read_verdicts(session=session, view=view, now=CHECK + 2 * WEEK)
        page = render_html(build_report(session=session, view=view, now=CHECK + 2 * WEEK))
    assert verdicts[DEPT].why.endswith("; stuck: go-ahead")
    # The gate's word is the vocabulary's "stuck", with how long it has pended.
    assert '… stuck<br><span class="muted">pending at 3 checks in a row</span>' in page
