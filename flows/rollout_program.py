"""`rollout-program`: start the next departments as earlier waves reach their phase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from sqlmodel import Session

from pilotscale.core.permissions import NotAllowed, identify
from pilotscale.db import get_engine
from pilotscale.flows.naming import rename_current_run
from pilotscale.plan.schema import Role
from pilotscale.store.snapshot import load_view
from pilotscale.tasks.start_steps import start_eligible


def _actor(by: str | None, program: str | None) -> str:
    """Who the starts are recorded for: the lead who asked, or the scheduler (an automation
    or a schedule). A name that is not a lead of the plan is refused."""
    if by is None:
        return "scheduler"
    with Session(get_engine()) as session:
        plan = load_view(session=session, program=program).plan
    person = identify(plan, by)
    if person.id != plan.program.lead and Role.lead not in person.roles:
        raise NotAllowed(f"{person.email} may not roll out the program: only a lead may")
    return person.id


@flow(name="rollout-program")
async def rollout_program_flow(
    program: str | None = None,
    as_of: datetime | None = None,
    dispatch: bool = True,
    by: str | None = None,
) -> dict[str, Any]:
    """Start every department whose wave may start now, within `max_active`; never forces.
    `by` is the lead who asks (checked against the plan and recorded)."""
    now = as_of or datetime.now(UTC)
    actor = _actor(by, program)
    result = start_eligible(as_of=now, program=program, run_id=flow_run.get_id(), actor=actor)
    started = [s.department for s in result.started]
    logger = get_run_logger()
    for name, reasons in result.waiting.items():
        logger.info("%s waits: %s", name, "; ".join(reasons))
    await rename_current_run(
        f"rollout-program: started {', '.join(started) or 'none'}; {len(result.waiting)} waiting"
    )
    if dispatch:
        from pilotscale.flows.dispatch import dispatch_now

        await dispatch_now(now=now)
    return {"started": started, "waiting": result.waiting}
