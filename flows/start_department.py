"""`start-department`: a program lead starts one department's mini-pilot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from sqlmodel import Session

from pilotscale.core.permissions import may_operate
from pilotscale.db import get_engine
from pilotscale.flows.naming import rename_current_run
from pilotscale.store.snapshot import load_view
from pilotscale.tasks.start_steps import start_one


@flow(name="start-department")
async def start_department_flow(
    department: str,
    by: str,
    reason: str = "",
    force: bool = False,
    program: str | None = None,
    as_of: datetime | None = None,
    dispatch: bool = True,
) -> dict[str, Any]:
    """Start `department` (by a lead of the plan): refused when its wave may not start yet,
    `max_active` is reached, it is in a blackout or the program is paused. `force` (with a
    reason, recorded) overrides wave rules and capacity, never a blackout or a pause."""

    now = as_of or datetime.now(UTC)
    with Session(get_engine()) as session:
        plan = load_view(session=session, program=program).plan
    person = may_operate(plan, by, "start", department)
    result = start_one(
        department=department,
        as_of=now,
        actor=person.id,
        reason=reason,
        force=force,
        program=program,
        run_id=flow_run.get_id(),
    )
    verb = "started" if result.started else "already started"
    get_run_logger().info("%s %s: now in %s", department, verb, result.phase)
    await rename_current_run(f"start-department {department}: {verb}, {result.phase}")
    if dispatch:
        from pilotscale.flows.dispatch import dispatch_now

        await dispatch_now(now=now)
    return {
        "department": department,
        "started": result.started,
        "phase": result.phase,
        "overridden": result.overridden,
        "enqueued": result.enqueued,
    }
