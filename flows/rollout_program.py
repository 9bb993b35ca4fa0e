"""`rollout-program`: start the next departments as earlier waves reach their phase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows.naming import rename_current_run
from tasks.start import start_eligible


@flow(name="rollout-program")
async def rollout_program_flow(
    program: str | None = None, as_of: datetime | None = None, dispatch: bool = True
) -> dict[str, Any]:
    """Start every department whose wave may start now, within `max_active`; never forces."""
    now = as_of or datetime.now(UTC)
    result = start_eligible(as_of=now, program=program, run_id=flow_run.get_id())
    started = [s.department for s in result.started]
    logger = get_run_logger()
    for name, reasons in result.waiting.items():
        logger.info("%s waits: %s", name, "; ".join(reasons))
    await rename_current_run(
        f"rollout-program: started {', '.join(started) or 'none'}; {len(result.waiting)} waiting"
    )
    if dispatch:
        from flows.dispatch import dispatch_now

        await dispatch_now(now=now)
    return {"started": started, "waiting": result.waiting}
