"""`rollout-program`: start the next departments as earlier waves reach their phase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from pilotscale.db import get_engine
from pilotscale.engine.start import rollout_actor
from pilotscale.flows.finish import finish
from pilotscale.tasks.start_steps import start_eligible


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
    actor = rollout_actor(engine=get_engine(), by=by, program=program)
    result = start_eligible(as_of=now, program=program, run_id=flow_run.get_id(), actor=actor)
    started = [s.department for s in result.started]
    logger = get_run_logger()
    for name, reasons in result.waiting.items():
        logger.info("%s waits: %s", name, "; ".join(reasons))
    summary = (
        f"rollout-program: started {', '.join(started) or 'none'}; {len(result.waiting)} waiting"
    )
    await finish(summary=summary, now=now, dispatch=dispatch)
    return {"started": started, "waiting": result.waiting}
