"""One message per person per check: folding the reminders of a check into one list each.

The core builds one intent per item as before (a held gate to its owner, a stuck gate
to the sponsor and the lead, a pending approval to its approver, a department's state
to its champions), each with its own `about`, so each keeps its own cadence. What can
wait for the check's end is *groupable*: those items go to one `your_open_items`
message per recipient, ordered by urgency. The engine records each item's key in a
ledger and folds only the items not told before, so a re-run sends nothing twice and
an item comes back only when its own cadence says so.

Everything else stays a message of its own, sent as it happens: a welcome kit, the
first request for an approval, a blocked or regressed department, a delivery alert.
A person with a single new item gets that item's own message, as before grouping
(its subject names the gate, its button is the one action): a list of one reads worse.
A champion's weekly department state has no message of its own and is always a list.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pilotscale.core.messages import CHANNEL_RECIPIENT, GROUPED, Message

# Per-item events and the kind of item each becomes (gate_held by its outcome).
# `department_state` exists only as an item (a champion's weekly view of the department).
GROUPABLE = frozenset(
    {"gate_held", "gate_stuck", "approval_reminder", "approval_escalation", "department_state"}
)

# Most urgent first: what fails, what is stuck, overdue and pending approvals, what
# waits for data or evidence, advisory gates, then a department's state (champions).
URGENCY: Mapping[str, int] = {
    "failing": 0,
    "stuck": 1,
    "approval_overdue": 2,
    "approval": 3,
    "pending": 4,
    "advisory": 5,
    "state": 6,
}

# Items listed in one message; the rest are counted ("and N more") and are on the
# person's own page. The lead of a large program can own thousands of gates.
ITEM_LIMIT = 100

# What an item keeps of its intent's context: the message has its own program and date.
_SHARED = frozenset({"program", "as_of", "lead"})


def groupable(message: Message) -> bool:
    return message.event in GROUPABLE and not message.recipient.startswith(CHANNEL_RECIPIENT)


def split(messages: Iterable[Message]) -> tuple[list[Message], list[Message]]:
    """(messages sent on their own, items for the check's grouped messages)."""
    single: list[Message] = []
    items: list[Message] = []
    for message in messages:
        (items if groupable(message) else single).append(message)
    return single, items


def item_key(message: Message) -> str:
    """An item's key in the ledger of told items: its dedupe key without a channel (the
    grouped message is routed to the person's channels as a whole)."""
    return f"{message.event}|{message.about}|{message.recipient}"


def kind_of(message: Message) -> str:
    gate = message.context.get("gate")
    if message.event == "gate_held" and isinstance(gate, Mapping):
        if gate.get("advisory"):
            return "advisory"
        return "failing" if gate.get("outcome") == "fail" else "pending"
    return {
        "gate_stuck": "stuck",
        "approval_escalation": "approval_overdue",
        "approval_reminder": "approval",
        "department_state": "state",
    }.get(message.event, "pending")


def item_of(message: Message) -> dict[str, Any]:
    return {
        "kind": kind_of(message),
        "event": message.event,
        "about": message.about,  # the item's own cadence, as its message would have had
        **{k: v for k, v in message.context.items() if k not in _SHARED},
    }


def _order(item: Mapping[str, Any]) -> tuple[int, str, str]:
    department = item.get("department")
    gate = item.get("gate")
    return (
        URGENCY.get(str(item["kind"]), len(URGENCY)),
        str(department.get("title", "")) if isinstance(department, Mapping) else "",
        str(gate.get("title", "")) if isinstance(gate, Mapping) else "",
    )


ITEM_ONLY = frozenset({"department_state"})


def fold(items: Sequence[Message], *, check_key: str, limit: int = ITEM_LIMIT) -> list[Message]:
    """One message per recipient of `items` (the new ones only), in the order recipients
    first appear: `your_open_items`, or the item itself when it is the only one and has
    a message of its own. The list's `about` names the check and the items, so a later
    run of the same check that finds other new items is a message of its own."""
    by_person: dict[str, dict[str, Message]] = {}
    for message in items:
        by_person.setdefault(message.recipient, {}).setdefault(item_key(message), message)
    out = []
    for person, found in by_person.items():
        if len(found) == 1:
            only = next(iter(found.values()))
            if only.event not in ITEM_ONLY:
                out.append(only)
                continue
        listed = sorted((item_of(m) for m in found.values()), key=_order)
        counts: dict[str, int] = {}
        for item in listed:
            counts[item["kind"]] = counts.get(item["kind"], 0) + 1
        first = next(iter(found.values())).context
        digest = hashlib.sha256("\n".join(sorted(found)).encode()).hexdigest()[:16]
        context = {
            "program": first.get("program", {}),
            "as_of": first.get("as_of", ""),
            "items": listed[:limit],
            "more": max(0, len(listed) - limit),
            "total": len(listed),
            "counts": counts,
            "departments": len({_department(i) for i in listed}),
        }
        out.append(Message(GROUPED, person, f"{check_key}:{digest}", None, context))
    return out


def _department(item: Mapping[str, Any]) -> str:
    department = item.get("department")
    return str(department.get("name", "")) if isinstance(department, Mapping) else ""


__all__ = [
    "GROUPABLE",
    "ITEM_LIMIT",
    "ITEM_ONLY",
    "URGENCY",
    "fold",
    "groupable",
    "item_key",
    "split",
]
