"""A department advances only when every gate of its phase passes; pending never passes.

Each scenario starts a department, takes it through preparing into piloting, then gives
it some of what the piloting gates need and runs the readiness check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.decisions import Action
from pilotscale.engine.check import run_readiness_check
from pilotscale.models import GateResultRecord
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, LEAD, SUPPORT, plan_dict

DEPT = "d001"
DSPONSOR = f"{DEPT}-sponsor"
ENTERED = h.PILOTING_AT  # when d001 enters piloting
CHECK = h.day(10)  # a week and a day later: the 1w soak has passed
PILOT_GATES = ("weekly-active", "power-trained", "guardrails", "go-ahead", "piloting-min-soak")


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    h.into_piloting(engine)
    return engine


# --------------------------------------------------------------------------- scenarios

Setup = Callable[[Engine, datetime], None]


def metric(values: list[float], *, hours_before: float = 5) -> Setup:
    return lambda e, at: h.observe(e, DEPT, values, start=at - timedelta(hours=hours_before))


def trained(e: Engine, at: datetime) -> None:
    h.complete(e, DEPT, "power", now=at - timedelta(hours=1))


def attested(e: Engine, at: datetime) -> None:
    h.attest(e, DEPT, "guardrails", now=at - timedelta(hours=1))


def approved(e: Engine, at: datetime) -> None:
    h.approve(e, DEPT, now=at - timedelta(hours=1))


GOOD = metric([0.6, 0.7, 0.8])
EVERYTHING = (GOOD, trained, attested, approved)


@dataclass(frozen=True)
class Scenario:
    setups: tuple[Setup, ...]
    outcomes: dict[str, str] = field(default_factory=dict)  # gates that do not pass
    at: datetime = CHECK

    @property
    def advances(self) -> bool:
        return not self.outcomes


def without(setup: Setup, *others: Setup) -> tuple[Setup, ...]:
    return tuple(s for s in EVERYTHING if s is not setup) + others


SCENARIOS = {
    "every gate passes": Scenario(EVERYTHING),
    "metric: no data": Scenario(without(GOOD), {"weekly-active": "pending"}),
    "metric: too few samples": Scenario(
        without(GOOD, metric([0.9, 0.9])), {"weekly-active": "pending"}
    ),
    "metric: data only outside the window": Scenario(
        without(GOOD, metric([0.9, 0.9, 0.9], hours_before=8 * 24)), {"weekly-active": "pending"}
    ),
    "metric: below threshold": Scenario(
        without(GOOD, metric([0.2, 0.3, 0.4])), {"weekly-active": "fail"}
    ),
    "metric: exactly at threshold": Scenario(without(GOOD, metric([0.5, 0.5, 0.5]))),
    "training: nobody completed": Scenario(without(trained), {"power-trained": "fail"}),
    "attestation missing": Scenario(without(attested), {"guardrails": "pending"}),
    "approval waiting": Scenario(without(approved), {"go-ahead": "pending"}),
    "soak not over": Scenario(EVERYTHING, {"piloting-min-soak": "pending"}, at=h.day(8)),
    "failing and pending gates together": Scenario(
        (attested, metric([0.1, 0.1, 0.1])),
        {"weekly-active": "fail", "power-trained": "fail", "go-ahead": "pending"},
    ),
    "nothing at all": Scenario(
        (),
        {
            "weekly-active": "pending",
            "power-trained": "fail",
            "guardrails": "pending",
            "go-ahead": "pending",
        },
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_a_department_advances_only_when_every_gate_passes(
    piloting: Engine, scenario: Scenario
) -> None:
    for setup in scenario.setups:
        setup(piloting, scenario.at)

    report = run_readiness_check(engine=piloting, now=scenario.at)

    (decision,) = report.decisions
    assert decision.verdict is not None
    outcomes = {r.gate: str(r.outcome) for r in decision.verdict.results}
    assert set(outcomes) == set(PILOT_GATES)
    assert {g: o for g, o in outcomes.items() if o != "pass"} == scenario.outcomes
    if scenario.advances:
        assert decision.action is Action.advance
        assert h.states(piloting)[DEPT] == ("scaling", "active")
        assert h.events(piloting, DEPT)[-1] == "advance"
    else:
        assert decision.action is Action.hold
        assert h.states(piloting)[DEPT] == ("piloting", "active")
        assert h.events(piloting, DEPT) == ["apply", "start", "advance"]
    # What the check saw is recorded, one row per gate, as evaluated.
    with Session(piloting) as session:
        recorded = session.exec(
            select(GateResultRecord.gate, GateResultRecord.outcome).where(
                col(GateResultRecord.phase) == "piloting"
            )
        ).all()
    assert dict(recorded) == outcomes


def test_pending_gates_hold_without_counting_as_failures(piloting: Engine) -> None:
    for setup in without(approved):
        setup(piloting, CHECK)

    for days in (0, 1, 2):
        report = run_readiness_check(engine=piloting, now=CHECK + timedelta(days=days))
        (decision,) = report.decisions
        assert decision.action is Action.hold
        assert decision.verdict is not None
        assert str(decision.verdict.outcome) == "pending"

    row = h.department(piloting, DEPT)
    assert (row.phase, row.consecutive_failures) == ("piloting", 0)


# --------------------------------------------------------------------------- entry actions


def test_starting_onboards_the_champions_and_sends_each_a_welcome_kit(engine: Engine) -> None:
    h.apply(engine, plan_dict(2))
    h.start(engine, ["d001"])

    assert h.onboarded(engine, "d001") == {"d001-champ1", "d001-champ2"}
    assert h.onboarded(engine, "d002") == set()
    welcomes = h.outbox(engine, event="champion_welcome")
    assert {n.recipient_key for n in welcomes} == {"d001-champ1", "d001-champ2"}
    kit = h.context(welcomes[0])
    # The champion network: peers of every department, never the champion themself.
    peers = {p["id"] for p in kit["peers"]}
    assert welcomes[0].recipient_key not in peers
    assert {"d002-champ1", "d002-champ2"} <= peers
    assert kit["use_cases"][0]["name"] == "drafting"
    assert kit["talking_points"] == ["It drafts, you decide."]
    assert h.assignments(engine, "d001") == set()  # preparing delivers no training


def test_advancing_runs_the_next_phases_entry_actions_per_segment(engine: Engine) -> None:
    h.into_piloting(engine, plan_dict(2))

    power = {("d001-champ1", "power", "full-course"), ("d001-champ2", "power", "full-course")}
    power.add(("d001-power", "power", "full-course"))
    assert h.assignments(engine, DEPT) == power  # piloting reaches power users only
    assert h.recipients(engine, "training_assigned") == {p for p, _, _ in power}
    advanced = h.outbox(engine, event="department_advanced")
    assert {n.recipient_key for n in advanced} == {
        "d001-sponsor",
        LEAD,
        "d001-champ1",
        "d001-champ2",
    }
    assert {h.context(n)["to_phase"] for n in advanced} == {"piloting"}
    library = h.context(h.outbox(engine, event="training_assigned")[0])["library"]
    assert [m["id"] for m in library] == ["library"]  # self-service for everyone

    for setup in EVERYTHING:
        setup(engine, CHECK)
    run_readiness_check(engine=engine, now=CHECK)

    casual = {
        ("d001-sponsor", "casual", "quick-start"),
        ("d001-casual1", "casual", "quick-start"),
        ("d001-casual2", "casual", "quick-start"),
    }
    assert h.assignments(engine, DEPT) == power | casual  # scaling adds the casual users
    assert h.recipients(engine, "training_assigned") == {p for p, _, _ in power | casual}
    # Scaling shares the success story with the other departments' champions and the
    # sponsors (tests/pilotscale/engine/test_success_stories.py: what it tells).
    assert h.recipients(engine, "success_story") == {"d002-champ1", "d002-champ2", DSPONSOR, EXEC}
    assert h.assignments(engine, "d002") == set()


# --------------------------------------------------------------------------- held gates


def test_held_gates_tell_each_owner_what_is_missing(piloting: Engine) -> None:
    metric([0.2, 0.3, 0.4])(piloting, CHECK)

    run_readiness_check(engine=piloting, now=CHECK)

    # Told one by one or in the owner's list of open items (core.grouping).
    held = {h.context(n)["gate"]["gate"]: n for n in h.told(piloting, event="gate_held")}
    assert set(held) == {"weekly-active", "power-trained", "guardrails"}
    active = held["weekly-active"]
    assert active.recipient_key == SUPPORT["adoption"]  # the owner role, resolved
    gate = h.context(active)["gate"]
    assert gate["outcome"] == "fail"
    assert gate["observed"] == "0.30 (3 samples)"
    assert gate["threshold"] == ">= 0.50 over 1w, at least 3 samples"
    assert "run a champion office hour" in gate["reason"]
    assert held["guardrails"].recipient_key == SUPPORT["governance"]
    assert h.context(held["guardrails"])["gate"]["outcome"] == "pending"
    # Approvals are requested from the approvers, not reported as held to the owner.
    assert h.recipients(piloting, "approval_requested") == {LEAD, "exec"}


def test_a_vacant_owner_role_falls_back_to_the_program_lead(engine: Engine) -> None:
    data = plan_dict(1)
    data["departments"][0]["support"]["governance"] = None
    h.into_piloting(engine, data)

    run_readiness_check(engine=engine, now=CHECK)

    guardrails = [
        n
        for n in h.outbox(engine, event="gate_held")
        if "|d001:piloting:guardrails:" in n.dedupe_key
    ]
    assert [n.recipient_key for n in guardrails] == [LEAD]


def test_a_pending_soak_tells_nobody(piloting: Engine) -> None:
    for setup in EVERYTHING:
        setup(piloting, h.day(8))

    run_readiness_check(engine=piloting, now=h.day(8))

    assert h.states(piloting)[DEPT] == ("piloting", "active")
    assert h.outbox(piloting, event="gate_held") == []


def test_the_next_weeks_check_reminds_again_but_a_rerun_does_not(piloting: Engine) -> None:
    run_readiness_check(engine=piloting, now=CHECK)
    first = len(h.outbox(piloting, event="gate_held"))
    run_readiness_check(engine=piloting, now=CHECK + timedelta(hours=3))
    assert len(h.outbox(piloting, event="gate_held")) == first
    run_readiness_check(engine=piloting, now=CHECK + timedelta(days=7))
    assert len(h.outbox(piloting, event="gate_held")) == 2 * first


def test_daily_checks_remind_once_a_week_and_at_once_when_a_result_changes(
    engine: Engine,
) -> None:
    data = plan_dict(1)
    data["program"]["failure_limit"] = 10  # held, never blocked, all along
    h.into_piloting(engine, data)
    piloting = engine

    def reminders() -> Counter[str]:
        return Counter(h.context(n)["gate"]["gate"] for n in h.outbox(piloting, event="gate_held"))

    for day in (10, 11, 12, 13):  # piloting since day 2: all in its second week
        run_readiness_check(engine=piloting, now=h.day(day))
    first = reminders()
    assert first, "held gates remind their owners"
    assert set(first.values()) == {1}  # four daily checks, one reminder per gate

    # Usage data arrives and is poor: the gate goes from pending to failing, told at once.
    h.observe(piloting, DEPT, [0.1, 0.12, 0.11], start=h.day(14) - timedelta(hours=5))
    run_readiness_check(engine=piloting, now=h.day(14))
    changed = reminders() - first
    assert changed == Counter({"weekly-active": 1})

    run_readiness_check(engine=piloting, now=h.day(15))  # same week, same results: quiet
    assert reminders() - first == changed
    run_readiness_check(engine=piloting, now=h.day(16))  # its third week: everyone again
    assert reminders() - first - changed == first


def test_rerunning_the_check_that_advanced_a_department_changes_nothing(engine: Engine) -> None:
    """The same check again (a retry, a second scheduler, a lead re-running it by hand)
    must not evaluate the department's new phase: that would hold it and tell its owners
    on the day it arrived, or even advance it a second time within one check."""
    h.into_piloting(engine)
    before = h.store_state(engine)

    report = run_readiness_check(engine=engine, now=ENTERED + timedelta(hours=2))

    assert [d.action for d in report.decisions] == [Action.skip]
    assert h.store_state(engine) == before


def test_a_phase_that_passes_at_once_is_still_one_phase_per_check(engine: Engine) -> None:
    data = plan_dict(1)
    # Piloting holds nothing back: its only gate passes on arrival.
    data["gates"].append(
        {"name": "support", "kind": "support_coverage", "title": "Support", "owner": "lead"}
    )
    data["phases"][2]["exit_gates"] = ["support"]
    del data["phases"][2]["min_soak"]
    h.into_piloting(engine, data)

    run_readiness_check(engine=engine, now=ENTERED + timedelta(hours=1))
    assert h.states(engine)[DEPT] == ("piloting", "active")

    run_readiness_check(engine=engine, now=ENTERED + timedelta(days=1))  # the next check
    assert h.states(engine)[DEPT] == ("scaling", "active")


def test_overdue_training_is_reminded_once_per_check(piloting: Engine) -> None:
    # The full course is due 2w after d001 entered piloting; one power user finishes.
    due = ENTERED + timedelta(weeks=2)
    h.operator.complete_training(
        engine=piloting, person="d001-champ1", module="full-course", now=due - timedelta(days=1)
    )

    run_readiness_check(engine=piloting, now=due - timedelta(hours=1))
    assert h.outbox(piloting, event="training_reminder") == []

    for at in (due + timedelta(days=1), due + timedelta(days=1, hours=2)):
        run_readiness_check(engine=piloting, now=at)
    reminders = h.outbox(piloting, event="training_reminder")
    assert {n.recipient_key for n in reminders} == {"d001-champ2", "d001-power"}
    assert len(reminders) == 2
    reminder = h.context(reminders[0])
    assert [m["id"] for m in reminder["modules"]] == ["full-course"]
    assert reminder["days_overdue"] == 1

    run_readiness_check(engine=piloting, now=due + timedelta(days=8))  # next week's check
    assert len(h.outbox(piloting, event="training_reminder")) == 4
