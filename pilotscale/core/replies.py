"""Messages caused by what people answer: an approver's rejection, a reported barrier.

Pure intents like pilotscale.core.messages' (same context shapes): the engine queues them
in the transaction that records the answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pilotscale.core.controls import until_text
from pilotscale.core.messages import Message, department_context, person_context, program_context
from pilotscale.core.recipients import SUPPORT_AREAS, owner_or_lead, sponsor_or_lead
from pilotscale.plan.schema import Department, Plan


def _entered(plan: Plan, entered_by: str | None, reason: str) -> dict[str, Any] | None:
    """Who entered it for the person, and why, when an operator acted on their behalf."""
    if entered_by is None:
        return None
    return {"person": person_context(plan, entered_by), "reason": reason}


def approval_rejected(
    plan: Plan,
    dept: Department,
    *,
    phase: str,
    gate: str,
    approver: str,
    comment: str,
    now: datetime,
    entered_by: str | None = None,
    on_behalf_reason: str = "",
) -> list[Message]:
    """The program lead hears of every rejection: it holds the department."""
    spec = plan.gate(gate)
    context = {
        "program": program_context(plan),
        "department": department_context(dept),
        "as_of": now.isoformat(),
        "phase": phase,
        "gate": {"gate": gate, "title": spec.title},
        "rejected_by": person_context(plan, approver),
        "comment": comment,
        "entered_by": _entered(plan, entered_by, on_behalf_reason),
    }
    about = f"{dept.name}:{gate}:{approver}:rejected:{now.isoformat()}"
    return [Message("approval_rejected", plan.program.lead, about, dept.name, context)]


def barrier_owner(plan: Plan, dept: Department, area: str) -> str:
    """Who hears of a barrier: the department's owner of its support area; with no area,
    or nobody named for it, the program lead."""
    if area in SUPPORT_AREAS:
        return owner_or_lead(plan, dept, f"support.{area}")
    return plan.program.lead


def barrier_reported(
    plan: Plan,
    dept: Department,
    *,
    phase: str,
    reported_by: str,
    area: str,
    text: str,
    now: datetime,
    entered_by: str | None = None,
    on_behalf_reason: str = "",
) -> list[Message]:
    context = {
        "program": program_context(plan),
        "department": department_context(dept),
        "as_of": now.isoformat(),
        "phase": phase,
        "area": area,
        "text": text,
        "reported_by": person_context(plan, reported_by),
        "entered_by": _entered(plan, entered_by, on_behalf_reason),
    }
    about = f"{dept.name}:barrier:{reported_by}:{now.isoformat()}"
    owner = barrier_owner(plan, dept, area)
    return [Message("barrier_reported", owner, about, dept.name, context)]


def gate_waived(
    plan: Plan,
    dept: Department,
    *,
    phase: str,
    gate: str,
    waived_by: str,
    until: datetime,
    reason: str,
    now: datetime,
    entered_by: str | None = None,
    on_behalf_reason: str = "",
) -> list[Message]:
    """A waiver is never silent: the department's sponsor and the gate's owner hear who
    set the gate aside, until when and why."""
    spec = plan.gate(gate)
    owner = owner_or_lead(plan, dept, spec.owner)
    context = {
        "program": program_context(plan),
        "department": department_context(dept),
        "as_of": now.isoformat(),
        "phase": phase,
        "gate": {"gate": gate, "title": spec.title},
        "waived_by": person_context(plan, waived_by),
        "until": until_text(until),
        "reason": reason,
        "owner": person_context(plan, owner),
        "entered_by": _entered(plan, entered_by, on_behalf_reason),
    }
    about = f"{dept.name}:{gate}:waived:{now.isoformat()}"
    people = list(dict.fromkeys([sponsor_or_lead(plan, dept), owner]))
    return [Message("gate_waived", p, about, dept.name, context) for p in people]
