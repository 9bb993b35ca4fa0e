"""`start-department`: a program lead starts one department's mini-pilot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from pilotscale.db import get_engine
from pilotscale.engine.start import start_actor
from pilotscale.flows.finish import finish
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
    actor = start_actor(engine=get_engine(), department=department, by=by, program=program)
    result = start_one(
        department=department,
        as_of=now,
        actor=actor,
        reason=reason,
        force=force,
        program=program,
        run_id=flow_run.get_id(),
    )
    verb = "started" if result.started else "already started"
    get_run_logger().info("%s %s: now in %s", department, verb, result.phase)
    summary = f"start-department {department}: {verb}, {result.phase}"
    await finish(summary=summary, now=now, dispatch=dispatch)
    return {
        "department": department,
        "started": result.started,
        "phase": result.phase,
        "overridden": result.overridden,
        "enqueued": result.enqueued,
    }
