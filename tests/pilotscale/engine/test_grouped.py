"""One message per person per check (core.grouping, engine.grouped), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from pilotscale.core.grouping import URGENCY
from pilotscale.core.messages import GROUPED
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, LEAD, SUPPORT, plan_dict

CHECK = h.day(10)  # piloting since day 2: in the second week of the visit
OWNER = SUPPORT["adoption"]
DEPTS = ("d001", "d002")


@pytest.fixture
def two_held(engine: Engine) -> Engine:
    """Two departments piloting, whose three owned gates all belong to one person."""
    data = plan_dict(2)
    data["program"]["failure_limit"] = 10  # held all along, never blocked
    for gate in data["gates"]:
        if gate["name"] in ("weekly-active", "power-trained", "guardrails"):
            gate["owner"] = "support.adoption"
    h.into_piloting(engine, data, departments=DEPTS)
    return engine


def _lists(engine: Engine, person: str) -> list[dict[str, Any]]:
    return [h.context(n) for n in h.outbox(engine, event=GROUPED) if n.recipient_key == person]


def _items(context: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(i["kind"], i["department"]["name"], i["gate"]["gate"]) for i in context["items"]]


def test_an_owner_of_five_held_gates_in_two_departments_gets_one_message(
    two_held: Engine,
) -> None:
    engine = two_held
    h.observe(engine, "d001", [0.1, 0.12, 0.11], start=CHECK - timedelta(hours=5))
    operator.attest(
        engine=engine,
        department="d002",
        gate="guardrails",
        actor=cli_actor(OWNER),
        evidence="wiki/page",
        now=CHECK - timedelta(hours=1),
    )
    before = len(h.outbox(engine))

    run_readiness_check(engine=engine, now=CHECK)

    [told] = _lists(engine, OWNER)
    assert sorted((d, g) for _, d, g in _items(told)) == [
        ("d001", "guardrails"),
        ("d001", "power-trained"),
        ("d001", "weekly-active"),
        ("d002", "power-trained"),
        ("d002", "weekly-active"),
    ]
    kinds = [k for k, _, _ in _items(told)]
    assert kinds == sorted(kinds, key=URGENCY.__getitem__)  # most urgent first
    assert kinds[0] == "failing"
    assert kinds[-1] == "pending"
    assert (told["total"], told["departments"]) == (5, 2)
    for item in told["items"]:  # observed vs threshold, and the way to the next step
        assert {"observed", "threshold", "reason", "how_to_fix"} <= item["gate"].keys()
        assert item["visit"]  # the item's links are bound to its department's visit
    # Nothing of the five went out on its own.
    assert [n for n in h.outbox(engine) if n.recipient_key == OWNER][1:] == []
    assert h.outbox(engine, event="gate_held") == []
    queued = len(h.outbox(engine))
    assert queued > before

    # The same check again: nothing twice.
    run_readiness_check(engine=engine, now=CHECK + timedelta(hours=3))
    assert len(h.outbox(engine)) == queued

    # The next day, same week, same results: nothing either.
    h.observe(engine, "d001", [0.1, 0.12, 0.11], start=CHECK + timedelta(hours=19))
    run_readiness_check(engine=engine, now=CHECK + timedelta(days=1))
    assert len(_lists(engine, OWNER)) == 1

    # The next reminder window: one message again, with all five.
    h.observe(engine, "d001", [0.1, 0.12, 0.11], start=CHECK + timedelta(days=7, hours=-5))
    run_readiness_check(engine=engine, now=CHECK + timedelta(days=7))
    lists = _lists(engine, OWNER)
    assert len(lists) == 2
    assert sorted(_items(lists[1])) == sorted(_items(told))


def test_approvers_get_one_message_with_all_their_pending_approvals(two_held: Engine) -> None:
    engine = two_held
    run_readiness_check(engine=engine, now=CHECK)
    # The first request of each approval is immediate and its own message.
    asked = Counter(n.recipient_key for n in h.outbox(engine, event="approval_requested"))
    assert asked == Counter({LEAD: 2, EXEC: 2})

    # Past escalate_after (3 days): reminders, one list per approver with both approvals.
    run_readiness_check(engine=engine, now=CHECK + timedelta(days=4))
    assert h.outbox(engine, event="approval_reminder") == []
    [exec_list] = _lists(engine, EXEC)
    assert [(k, d, g) for k, d, g in _items(exec_list)] == [
        ("approval", "d001", "go-ahead"),
        ("approval", "d002", "go-ahead"),
    ]
    approvals = [i for c in _lists(engine, LEAD) for i in c["items"] if i["event"] != "gate_stuck"]
    assert {(i["kind"], i["department"]["name"]) for i in approvals} >= {
        ("approval", "d001"),
        ("approval", "d002"),
    }
    assert len(_lists(engine, LEAD)) == 1


def test_champions_hear_their_departments_state_once_a_week(two_held: Engine) -> None:
    engine = two_held

    def states() -> Counter[tuple[str, str]]:
        return Counter(
            (n.recipient_key, i["department"]["name"])
            for n in h.outbox(engine, event=GROUPED)
            for i in h.context(n)["items"]
            if i["kind"] == "state"
        )

    # Piloting since day 2: days 9 to 15 are the visit's second week.
    for day in range(9, 16):
        run_readiness_check(engine=engine, now=h.day(day))
    champions = {(f"{d}-champ{c}", d) for d in DEPTS for c in (1, 2)}
    assert set(states()) == champions
    assert set(states().values()) == {1}  # seven daily checks, one state each
    run_readiness_check(engine=engine, now=h.day(16))  # the third week: again
    assert set(states().values()) == {2}


def test_immediate_events_stay_single(engine: Engine) -> None:
    data = plan_dict(2)
    data["program"]["failure_limit"] = 1
    h.into_piloting(engine, data, departments=DEPTS)
    # Welcome kits went out when the departments entered preparing, one per champion.
    welcome = Counter(n.recipient_key for n in h.outbox(engine, event="champion_welcome"))
    assert welcome == Counter({f"{d}-champ{c}": 1 for d in DEPTS for c in (1, 2)})
    for name in DEPTS:
        h.observe(engine, name, [0.1, 0.12, 0.11], start=CHECK - timedelta(hours=5))

    run_readiness_check(engine=engine, now=CHECK)

    assert h.states(engine)["d001"] == ("piloting", "blocked")
    blocked = Counter(n.recipient_key for n in h.outbox(engine, event="department_blocked"))
    # The lead hears of each blocked department at once, in a message of its own.
    assert blocked[LEAD] == 2
    assert {n.department_id for n in h.outbox(engine, event="department_blocked")} == {
        h.department(engine, d).id for d in DEPTS
    }
