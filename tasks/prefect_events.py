"""Prefect events for what a readiness check did, so teams can hang automations on them.

`pilotscale.department.advanced`, `.held`, `.blocked` and `.rolled_back` (a regression),
about the resource `pilotscale.department.<program>.<department>`, with the program as a
related resource. Exactly one event per advance, block and regression the store holds
for the check (see pilotscale.engine.announce), and one per department the run held.

Event ids are derived from what is announced (a transition's id; a hold's department,
check and decision), so a check run twice on the same day announces each once. Ids
the server already holds are not sent again: Prefect's SQLite event writer fails on a
batch made only of events it has, and logs a traceback for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.events import emit_event
from prefect.events.filters import EventFilter, EventIDFilter

from pilotscale.core.decisions import Action
from pilotscale.engine.announce import Announcement, announcements
from pilotscale.engine.check import CheckReport

PREFIX = "pilotscale.department"
EVENT_NAMES = {
    Action.advance: "advanced",
    Action.hold: "held",
    Action.block: "blocked",
    Action.rollback: "rolled_back",
}
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


def event_for(program: str, check_key: str, announced: Announcement) -> DepartmentEvent:
    name = EVENT_NAMES[announced.action]
    before, after = announced.before, announced.after
    return DepartmentEvent(
        event=f"{PREFIX}.{name}",
        resource={
            "prefect.resource.id": department_resource_id(program, announced.department),
            "prefect.resource.name": announced.department,
            "pilotscale.program": program,
            "pilotscale.department": announced.department,
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
            "reason": announced.reason,
            "consecutive_failures": announced.consecutive_failures,
            "holding": [
                {"gate": h.gate, "kind": h.kind, "outcome": h.outcome, "reason": h.reason}
                for h in announced.holding
            ],
        },
        id=uuid.uuid5(_NAMESPACE, "|".join((program, announced.department, announced.key))),
    )


def events_for(report: CheckReport) -> list[DepartmentEvent]:
    return [event_for(report.program, report.check_key, a) for a in announcements(report)]


# The most events the server returns per page.
PAGE = 50


def already_recorded(ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of `ids` the Prefect server already holds. If it cannot say, none: an
    event sent twice is kept once, and only a batch of nothing but repeats is noisy."""
    found: set[uuid.UUID] = set()
    try:
        with get_client(sync_client=True) as client:
            for first in range(0, len(ids), PAGE):
                chunk = list(ids[first : first + PAGE])
                page = client.read_events(
                    filter=EventFilter(id=EventIDFilter(id=chunk)), limit=PAGE
                )
                found.update(e.id for e in page.events)
    except httpx.HTTPError as exc:
        get_run_logger().warning("could not read which events Prefect holds already: %s", exc)
        return set()
    return found


@task(name="emit-department-events", cache_policy=NO_CACHE)
def emit_department_events(*, report: CheckReport) -> int:
    """Emit each event of the check that Prefect does not hold yet; returns how many."""
    events = events_for(report)
    known = already_recorded([e.id for e in events]) if events else set()
    missing = [e for e in events if e.id not in known]
    for e in missing:
        emit_event(
            event=e.event, resource=e.resource, related=e.related, payload=e.payload, id=e.id
        )
    return len(missing)
