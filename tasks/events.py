"""Prefect events for what a readiness check did, so teams can hang automations on them.

`pilotscale.department.advanced`, `.held` and `.blocked`, about the resource
`pilotscale.department.<program>.<department>`, with the program as a related resource.
Only decisions this run applied are announced: a department another run changed
meanwhile is that run's to announce.

Event ids are derived from the department, the check and the decision, so a check run
twice on the same day announces each decision once: the Prefect server keeps the first
event with an id and its automations ignore the repeat.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event

from pilotscale.core.readiness import Action, Decision
from pilotscale.engine.readiness import CheckReport

PREFIX = "pilotscale.department"
EVENT_NAMES = {Action.advance: "advanced", Action.hold: "held", Action.block: "blocked"}
_NAMESPACE = uuid.UUID("6f1d3c4e-9a57-4b8e-8f0c-70696c6f7473")


@dataclass(frozen=True)
class DepartmentEvent:
    event: str
    resource: dict[str, str]
    related: list[dict[str, str]]
    payload: dict[str, Any]
    id: uuid.UUID


def department_resource_id(program: str, department: str) -> str:
    return f"{PREFIX}.{program}.{department}"


def program_resource_id(program: str) -> str:
    return f"pilotscale.program.{program}"


def event_for(program: str, check_key: str, decision: Decision) -> DepartmentEvent | None:
    """The event announcing `decision`, or None for decisions that change nothing
    worth announcing (skipped departments, operating ones whose monitoring passes)."""
    name = EVENT_NAMES.get(decision.action)
    if name is None:
        return None
    before, after = decision.before, decision.after
    holding = decision.verdict.holding if decision.verdict is not None else ()
    identity = "|".join((program, decision.department, check_key, name, str(before), str(after)))
    return DepartmentEvent(
        event=f"{PREFIX}.{name}",
        resource={
            "prefect.resource.id": department_resource_id(program, decision.department),
            "prefect.resource.name": decision.department,
            "pilotscale.program": program,
            "pilotscale.department": decision.department,
            "pilotscale.phase": after.phase,
        },
        related=[
            {
                "prefect.resource.id": program_resource_id(program),
                "prefect.resource.role": "program",
                "prefect.resource.name": program,
            }
        ],
        payload={
            "check_key": check_key,
            "from_phase": before.phase,
            "to_phase": after.phase,
            "status": str(after.status),
            "reason": decision.reason,
            "consecutive_failures": decision.consecutive_failures,
            "holding": [
                {"gate": r.gate, "kind": r.kind, "outcome": str(r.outcome), "reason": r.reason}
                for r in holding
            ],
        },
        id=uuid.uuid5(_NAMESPACE, identity),
    )


def events_for(report: CheckReport) -> list[DepartmentEvent]:
    applied = [d for d in report.decisions if d.department not in report.conflicts]
    found = (event_for(report.program, report.check_key, d) for d in applied)
    return [e for e in found if e is not None]


@task(name="emit-department-events", cache_policy=NO_CACHE)
def emit_department_events(*, report: CheckReport) -> int:
    """Emit one event per applied decision; returns how many were handed to Prefect."""
    events = events_for(report)
    for e in events:
        emit_event(
            event=e.event, resource=e.resource, related=e.related, payload=e.payload, id=e.id
        )
    return len(events)
