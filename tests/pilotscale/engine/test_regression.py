"""Guarded operation and trend gates, through real stores (SQLite and PostgreSQL).

The department starts in the final phase (`initial_phase: operating`), whose only gate is
the weekly-active metric (owner: support.adoption), so one observation feed decides each
check. A regression is `failure_limit` (3) failing checks in a row there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.decisions import Action
from pilotscale.core.states import Outcome
from pilotscale.engine.announce import announcements
from pilotscale.engine.check import CheckReport, run_readiness_check
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.models import MetricObservation
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, SUPPORT, plan_dict

DEPT = "d001"
LOW = [0.1, 0.2, 0.3]  # avg 0.2 < 0.5: fails
WEEK = timedelta(days=7)


def _plan(*, rollback_to: str | None = None, trend: dict[str, Any] | None = None) -> Any:
    data = plan_dict(1, failure_limit=3)
    data["departments"][0]["initial_phase"] = "operating"
    operating = data["phases"][-1]
    if rollback_to:
        operating["on_regression"] = {"rollback_to": rollback_to}
    if trend is not None:
        data["gates"].append(
            {
                "name": "usage-trend",
                "kind": "trend",
                "title": "Weekly use keeps growing",
                "owner": "support.adoption",
                "metric": "weekly_active_rate",
                "window": "6w",
                "min_samples": 4,
                **trend,
            }
        )
        operating["exit_gates"] = ["usage-trend"]
    return data


def _check(engine: Engine, at: datetime, *, low: bool = False) -> CheckReport:
    if low:
        h.observe(engine, DEPT, LOW, start=at - timedelta(hours=5))
    return run_readiness_check(engine=engine, now=at)


def _action(report: CheckReport) -> Action:
    (decision,) = report.decisions
    return decision.action


def _fail_three_times(engine: Engine) -> CheckReport:
    assert _action(_check(engine, h.day(1), low=True)) is Action.hold
    assert _action(_check(engine, h.day(2))) is Action.hold
    assert h.outbox(engine, event="monitoring_regressed") == []
    return _check(engine, h.day(3))


def test_a_regression_rolls_back_as_the_plan_says_and_alerts_owner_sponsor_lead(
    engine: Engine,
) -> None:
    h.apply(engine, _plan(rollback_to="scaling"))

    report = _fail_three_times(engine)

    assert _action(report) is Action.rollback
    assert h.states(engine)[DEPT] == ("scaling", "rolled_back")
    last = h.transitions(engine, DEPT)[-1]
    assert (last.event, last.from_phase, last.to_phase, last.to_status) == (
        "rollback",
        "operating",
        "scaling",
        "rolled_back",
    )
    # The transition carries the results that caused it: history shows them as they were.
    assert last.reason.startswith("monitoring regressed: 3 consecutive failing checks (limit 3)")
    assert "rolled back to 'scaling' (on_regression)" in last.reason
    assert "weekly-active: 0.20 (3 samples), needs >= 0.50 over 1w" in last.reason
    assert last.actor == "scheduler"
    alerts = h.outbox(engine, event="monitoring_regressed")
    assert {n.recipient_key for n in alerts} == {SUPPORT["adoption"], f"{DEPT}-sponsor", LEAD}
    context = h.context(alerts[0])
    assert (context["rolled_back_to"], context["failures"]) == ("scaling", 3)
    assert [g["gate"] for g in context["gates"]] == ["weekly-active"]
    assert h.outbox(engine, event="department_blocked") == []
    assert "1 rolled back (regressed)" in report.summary()
    # The check announces it (a Prefect event), read back from the store like any move.
    (announced,) = announcements(report)
    assert (announced.action, announced.after.phase) == (Action.rollback, "scaling")

    # Rolled back is a side state: checks skip it until someone resumes it.
    assert _action(_check(engine, h.day(4), low=True)) is Action.skip


def test_without_on_regression_the_department_is_blocked_and_the_same_people_alerted(
    engine: Engine,
) -> None:
    h.apply(engine, _plan())

    assert _action(_fail_three_times(engine)) is Action.block

    assert h.states(engine)[DEPT] == ("operating", "blocked")
    alerts = h.outbox(engine, event="monitoring_regressed")
    assert {n.recipient_key for n in alerts} == {SUPPORT["adoption"], f"{DEPT}-sponsor", LEAD}
    assert h.context(alerts[0])["rolled_back_to"] is None
    assert "blocked (no on_regression in the plan)" in h.transitions(engine, DEPT)[-1].reason


def test_a_rerun_of_the_regressing_check_rolls_back_and_alerts_once(engine: Engine) -> None:
    h.apply(engine, _plan(rollback_to="scaling"))
    _fail_three_times(engine)
    sent = len(h.outbox(engine, event="monitoring_regressed"))

    again = run_readiness_check(engine=engine, now=h.day(3) + timedelta(hours=1))

    assert _action(again) is Action.skip
    assert len(h.outbox(engine, event="monitoring_regressed")) == sent
    assert [t.event for t in h.transitions(engine, DEPT)].count("rollback") == 1


def _weekly(engine: Engine, values: list[float], *, last: datetime) -> None:
    for i, value in enumerate(values):
        h.observe(engine, DEPT, [value], start=last - (len(values) - 1 - i) * WEEK)


def _trend_now(engine: Engine, at: datetime) -> Any:
    with Session(engine) as session:
        view = load_view(session=session, program=None)
        verdicts = read_verdicts(session=session, view=view, now=at)
    (gate,) = verdicts[DEPT].gates
    return gate


@pytest.mark.parametrize(
    ("direction", "values", "outcome", "said"),
    [
        ("growing", [0.40, 0.421, 0.442, 0.463, 0.484, 0.505], Outcome.passed, "grew 2.1 points"),
        ("growing", [0.60, 0.59, 0.58, 0.57, 0.56, 0.55], Outcome.failed, "fell 1 point a week"),
        ("not declining", [0.5, 0.5, 0.5, 0.5], Outcome.passed, "held level"),
        ("growing", [0.5, 0.6, 0.7], Outcome.pending, "only 3 samples"),
    ],
)
def test_trend_gate_reads_the_store(
    engine: Engine, direction: str, values: list[float], outcome: Outcome, said: str
) -> None:
    h.apply(engine, _plan(trend={"direction": direction}))
    at = h.day(60)
    _weekly(engine, values, last=at - timedelta(hours=1))
    # One sample before the window and one after the check change nothing.
    h.observe(engine, DEPT, [0.99], start=at - 9 * WEEK)
    h.observe(engine, DEPT, [0.0], start=at + timedelta(days=1))

    gate = _trend_now(engine, at)

    assert gate.outcome is outcome, gate.reason
    assert said in gate.reason
    assert "over 6 weeks" in gate.threshold_text


def test_a_falling_trend_regresses_like_any_monitoring_gate(engine: Engine) -> None:
    h.apply(engine, _plan(rollback_to="piloting", trend={"direction": "not declining"}))
    _weekly(engine, [0.60, 0.58, 0.56, 0.54, 0.52], last=h.day(1) - timedelta(hours=1))
    for day in (1, 2):
        assert _action(_check(engine, h.day(day))) is Action.hold
    report = _check(engine, h.day(3))
    assert _action(report) is Action.rollback
    assert h.states(engine)[DEPT] == ("piloting", "rolled_back")
    reason = h.transitions(engine, DEPT)[-1].reason
    assert "usage-trend: -2 points a week (5 samples), needs not declining" in reason


# --------------------------------------------------------------------------- per gate

DAILY = {"kind": "metric", "owner": "support.adoption", "aggregate": "avg", "window": "1d"}


def _two_gates_plan() -> Any:
    """The last phase watches two daily gates, each on its own metric, so each check can
    fail either one."""
    data = _plan(rollback_to="scaling")
    data["metrics"].append({"name": "satisfaction", "title": "Satisfaction"})
    data["gates"] += [
        {**DAILY, "name": "active-1d", "title": "Used today", "metric": "weekly_active_rate"}
        | {"op": ">=", "threshold": 0.5, "min_samples": 1},
        {**DAILY, "name": "satisfied-1d", "title": "Happy today", "metric": "satisfaction"}
        | {"op": ">=", "threshold": 3, "min_samples": 1},
    ]
    data["phases"][-1]["exit_gates"] = ["active-1d", "satisfied-1d"]
    return data


def _daily(engine: Engine, at: datetime, *, active: float, satisfied: float) -> CheckReport:
    h.observe(engine, DEPT, [active], start=at - timedelta(hours=2))
    with Session(engine) as session, session.begin():
        dept = next(d for d in load_view(session=session).departments if d.name == DEPT)
        session.add(
            MetricObservation(
                program_id=dept.program_id,
                department_id=dept.id or 0,
                metric="satisfaction",
                value=satisfied,
                observed_at=at - timedelta(hours=2),
            )
        )
    return run_readiness_check(engine=engine, now=at)


def test_a_different_gate_failing_each_check_does_not_regress_the_same_one_does(
    engine: Engine,
) -> None:
    h.apply(engine, _two_gates_plan())
    bad_active, bad_mood = {"active": 0.1, "satisfied": 4}, {"active": 0.9, "satisfied": 1}

    # Four failing checks in a row, never the same gate twice running: held each time.
    for day, data in enumerate([bad_active, bad_mood, bad_active, bad_mood], start=1):
        assert _action(_daily(engine, h.day(day), **data)) is Action.hold
    assert h.department(engine, DEPT).consecutive_failures == 4
    assert h.outbox(engine, event="monitoring_regressed") == []

    # active-1d's own third failing check in a row (it passed on day 4): regressed.
    for day in (5, 6):
        assert _action(_daily(engine, h.day(day), **bad_active)) is Action.hold
    report = _daily(engine, h.day(7), **bad_active)

    assert _action(report) is Action.rollback
    assert h.states(engine)[DEPT] == ("scaling", "rolled_back")
    reason = h.transitions(engine, DEPT)[-1].reason
    assert reason.startswith("monitoring regressed: 3 consecutive failing checks (limit 3)")
    assert "active-1d: 0.10 (1 sample), needs >= 0.50" in reason
    assert "satisfied-1d" not in reason
    (alert, *_) = h.outbox(engine, event="monitoring_regressed")
    assert h.context(alert)["failures"] == 3
