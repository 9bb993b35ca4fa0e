"""Folding a check's reminders into one message per person (pilotscale.core.grouping)."""

from __future__ import annotations

from typing import Any

import pytest

from pilotscale.core.grouping import URGENCY, fold, item_key, kind_of, split
from pilotscale.core.messages import GROUPED, Message

CHECK = "2026-11-23"
PROGRAM = {"name": "p", "title": "P"}


def _dept(name: str) -> dict[str, Any]:
    return {"name": name, "title": name.upper(), "headcount": 5, "wave": 1}


def held(to: str, dept: str, gate: str, outcome: str = "fail", advisory: bool = False) -> Message:
    result = {"gate": gate, "title": gate.title(), "outcome": outcome, "advisory": advisory}
    context = {"program": PROGRAM, "as_of": "x", "department": _dept(dept), "gate": result}
    return Message("gate_held", to, f"{dept}:{gate}:{outcome}:0", dept, context)


def other(event: str, to: str, dept: str, gate: str = "g") -> Message:
    context = {"program": PROGRAM, "department": _dept(dept), "gate": {"gate": gate, "title": gate}}
    return Message(event, to, f"{dept}:{gate}", dept, context)


@pytest.mark.parametrize(
    ("message", "grouped"),
    [
        (held("ana", "hr", "csat"), True),
        (other("gate_stuck", "ana", "hr"), True),
        (other("approval_reminder", "ana", "hr"), True),
        (other("approval_escalation", "ana", "hr"), True),
        (other("department_state", "ana", "hr"), True),
        # Immediate: told as it happens, on its own.
        (other("approval_requested", "ana", "hr"), False),
        (other("champion_welcome", "ana", "hr"), False),
        (other("department_blocked", "ana", "hr"), False),
        (other("monitoring_regressed", "ana", "hr"), False),
        (other("delivery_failure", "ana", "hr"), False),
        (other("department_advanced", "ana", "hr"), False),
        # A department's chat channel is not a person with a list.
        (held("channel:hr-room", "hr", "csat"), False),
    ],
)
def test_what_waits_for_the_list_and_what_goes_at_once(message: Message, grouped: bool) -> None:
    single, items = split([message])
    assert (items, single) == (([message], []) if grouped else ([], [message]))


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        (held("a", "hr", "g", "fail"), "failing"),
        (held("a", "hr", "g", "pending"), "pending"),
        (held("a", "hr", "g", "fail", advisory=True), "advisory"),
        (other("gate_stuck", "a", "hr"), "stuck"),
        (other("approval_escalation", "a", "hr"), "approval_overdue"),
        (other("approval_reminder", "a", "hr"), "approval"),
        (other("department_state", "a", "hr"), "state"),
    ],
)
def test_each_item_has_a_kind(message: Message, kind: str) -> None:
    assert kind_of(message) == kind


def test_one_message_per_person_with_all_their_items_most_urgent_first() -> None:
    items = [
        held("ana", "sales", "csat", "pending"),
        other("approval_reminder", "ana", "hr", "go"),
        held("ana", "hr", "usage", "fail"),
        other("gate_stuck", "ana", "sales", "evidence"),
        held("ana", "sales", "usage", "fail"),
        held("jon", "hr", "csat", "pending"),
        other("department_state", "jon", "hr"),
    ]

    out = fold(items, check_key=CHECK)

    assert [(m.event, m.recipient, m.department) for m in out] == [
        (GROUPED, "ana", None),
        (GROUPED, "jon", None),
    ]
    ana = out[0].context
    assert [(i["kind"], i["department"]["name"], i["gate"]["gate"]) for i in ana["items"]] == [
        ("failing", "hr", "usage"),
        ("failing", "sales", "usage"),
        ("stuck", "sales", "evidence"),
        ("approval", "hr", "go"),
        ("pending", "sales", "csat"),
    ]
    assert (ana["total"], ana["departments"], ana["more"]) == (5, 2, 0)
    assert ana["counts"] == {"failing": 2, "stuck": 1, "approval": 1, "pending": 1}
    assert ana["program"] == PROGRAM
    # Each item keeps its own cadence key, as its own message would have had.
    assert {i["about"] for i in ana["items"]} == {m.about for m in items if m.recipient == "ana"}
    assert [i["kind"] for i in out[1].context["items"]] == ["pending", "state"]
    assert list(URGENCY) == sorted(URGENCY, key=URGENCY.__getitem__)


@pytest.mark.parametrize(
    ("items", "events"),
    [
        # A single item is its own message, as it was before grouping ...
        ([held("ana", "hr", "csat")], ["gate_held"]),
        ([other("approval_reminder", "ana", "hr")], ["approval_reminder"]),
        # ... but a champion's weekly state has no message of its own.
        ([other("department_state", "ana", "hr")], [GROUPED]),
        # The same item twice (one key) is one item.
        ([held("ana", "hr", "csat"), held("ana", "hr", "csat")], ["gate_held"]),
        ([], []),
    ],
)
def test_a_single_item_and_the_states(items: list[Message], events: list[str]) -> None:
    out = fold(items, check_key=CHECK)
    assert [m.event for m in out] == events
    if events == ["gate_held"]:
        assert out[0] is items[0]


def test_the_list_is_named_by_its_check_and_items_in_any_order() -> None:
    a, b, c = held("ana", "hr", "x"), held("ana", "hr", "y"), held("ana", "hr", "z")
    first = fold([a, b], check_key=CHECK)[0]
    assert fold([b, a], check_key=CHECK)[0].about == first.about
    assert first.about.startswith(f"{CHECK}:")
    # Other new items in a later run of the same check: another message, not a duplicate.
    assert fold([a, c], check_key=CHECK)[0].about != first.about
    assert fold([a, b], check_key="2026-11-24")[0].about != first.about
    assert item_key(a) == f"gate_held|{a.about}|ana"


def test_a_long_list_shows_the_most_urgent_and_counts_the_rest() -> None:
    items = [held("lead", f"d{i:03d}", "csat", "pending") for i in range(5)]
    items.append(held("lead", "d999", "usage", "fail"))

    [message] = fold(items, check_key=CHECK, limit=3)

    assert [i["kind"] for i in message.context["items"]] == ["failing", "pending", "pending"]
    assert (message.context["total"], message.context["more"]) == (6, 3)


@pytest.mark.parametrize(
    ("kinds", "required"),
    [(["state"], False), (["state", "pending"], True), (["failing", "approval"], True)],
)
def test_a_list_of_states_alone_asks_nothing_of_a_digest_reader(
    kinds: list[str], required: bool
) -> None:
    message = Message(GROUPED, "ana", "x", None, {"items": [{"kind": k} for k in kinds]})
    assert message.action_required is required
