"""`weekly-digest`: impact, phases and moves of the week, for sponsors, executives and the lead."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger

from pilotscale.flows.finish import finish
from pilotscale.tasks.digest import queue_digest


@flow(name="weekly-digest")
async def weekly_digest_flow(
    program: str | None = None, as_of: datetime | None = None, dispatch: bool = True
) -> dict[str, Any]:
    """Queue the digest of the week before `as_of` (default: now) and send it. Running it
    again for the same week sends nothing twice."""
    now = as_of or datetime.now(UTC)
    result = queue_digest(as_of=now, program=program)
    summary = (
        f"weekly-digest {result.program} week of {result.week_start.isoformat()}: "
        f"{result.enqueued} queued for {result.recipients} people"
    )
    get_run_logger().info(summary)
    await finish(summary=summary, now=now, dispatch=dispatch)
    return {
        "program": result.program,
        "week_start": result.week_start.isoformat(),
        "recipients": result.recipients,
        "enqueued": result.enqueued,
    }
