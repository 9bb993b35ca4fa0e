"""A person's pending actions across departments ("my actions"), read in one batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event

from pilotscale.core.phases import Event
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.pending import PendingAction, pending_actions
from pilotscale.links import Purpose, visit_key
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, LEAD, OUTSIDER, plan_dict


def mine(engine: Engine, person: str, at: datetime = h.day(3)) -> list[tuple[str, str, str]]:
    return [
        (a.purpose.value, a.department, a.gate)
        for a in pending_actions(engine=engine, person=person, now=at)
    ]


@pytest.fixture
def two_piloting(engine: Engine) -> Engine:
    h.into_piloting(engine, plan_dict(3), departments=("d001", "d002"))
    return engine


def test_champions_answer_their_role_until_they_acknowledge_or_decline(engine: Engine) -> None:
    h.apply(engine, plan_dict(2))
    h.start(engine, ["d001", "d002"])

    assert mine(engine, "d001-champ1", h.day(1)) == [("acknowledge", "d001", "")]
    assert mine(engine, "d001-champ1@example.com", h.day(1)) == [("acknowledge", "d001", "")]
    operator.acknowledge(
        engine=engine, department="d001", actor=cli_actor("d001-champ1"), now=h.day(1)
    )
    operator.decline(
        engine=engine, department="d001", actor=cli_actor("d001-champ2"), reason="no", now=h.day(1)
    )
    assert mine(engine, "d001-champ1", h.day(1)) == []
    assert mine(engine, "d001-champ2", h.day(1)) == []
    # The sponsor owns use-cases in their own department only.
    assert mine(engine, "d002-sponsor", h.day(1)) == [("attest", "d002", "use-cases")]


def test_owners_attest_and_approvers_decide_until_they_have(two_piloting: Engine) -> None:
    engine = two_piloting
    assert mine(engine, "compliance") == [
        ("attest", "d001", "guardrails"),
        ("attest", "d002", "guardrails"),
    ]
    assert mine(engine, EXEC) == [("decide", "d001", "go-ahead"), ("decide", "d002", "go-ahead")]

    h.attest(engine, "d001", "guardrails", now=h.day(3))
    operator.reject(
        engine=engine,
        department="d002",
        gate="go-ahead",
        actor=cli_actor(EXEC),
        comment="not yet",
        now=h.day(3),
    )

    assert mine(engine, "compliance") == [("attest", "d002", "guardrails")]
    # A rejection holds the gate until the approver decides again: still theirs to act on.
    assert mine(engine, EXEC) == [("decide", "d001", "go-ahead"), ("decide", "d002", "go-ahead")]
    assert mine(engine, LEAD) == [("decide", "d001", "go-ahead"), ("decide", "d002", "go-ahead")]
    operator.approve(
        engine=engine,
        department="d002",
        gate="go-ahead",
        actor=cli_actor(EXEC),
        comment="now yes",
        now=h.day(3),
    )
    assert mine(engine, EXEC) == [("decide", "d001", "go-ahead")]
    assert mine(engine, OUTSIDER) == []


def test_a_sponsor_sees_their_paused_department(two_piloting: Engine) -> None:
    operator.operate(
        engine=two_piloting,
        department="d002",
        event=Event.pause,
        actor=cli_actor("d002-sponsor"),
        reason="works council",
        now=h.day(3),
    )

    (paused,) = pending_actions(engine=two_piloting, person="d002-sponsor", now=h.day(3))
    assert paused == PendingAction(
        purpose=Purpose.operate,
        department="d002",
        department_title="Department 2",
        gate="",
        gate_title="",
        what="Department 2 is paused: resume it when ready.",
        visit=visit_key(h.department(two_piloting, "d002").phase_entered_at),
    )
    assert mine(two_piloting, "d001-sponsor") == []


def test_each_item_names_the_gate_and_the_visit_links_are_bound_to(two_piloting: Engine) -> None:
    first = pending_actions(engine=two_piloting, person="compliance", now=h.day(3))[0]

    assert (first.gate, first.gate_title) == ("guardrails", "Guardrails in place")
    assert first.what.startswith("Attest for Department 1: ")
    assert first.visit == visit_key(h.PILOTING_AT)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_number_of_queries_does_not_grow_with_the_departments(engine: Engine) -> None:
    h.into_piloting(engine, plan_dict(6), departments=("d001",))
    with statements(engine) as one:
        assert len(mine(engine, EXEC)) == 1
    h.start(engine, ["d002", "d003", "d004", "d005"], now=h.day(1))
    h.pass_preparing_in_bulk(engine, ["d002", "d003", "d004", "d005"], now=h.day(2))
    run_readiness_check(engine=engine, now=h.day(2.5))
    with statements(engine) as five:
        assert len(mine(engine, EXEC)) == 5

    assert len(five) == len(one)
