"""How every flow that queues messages ends: its run renamed for what it did, and what
it queued sent at once unless the caller leaves that to the scheduled dispatcher."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pilotscale.flows.dispatch import dispatch_now
from pilotscale.flows.naming import rename_current_run


async def finish(*, summary: str, now: datetime, dispatch: bool) -> dict[str, Any] | None:
    """`summary` names the run; with `dispatch`, what is due as of `now` is sent now, and
    the delivery's counts returned (None without) for the command to report."""
    await rename_current_run(summary)
    if dispatch:
        return await dispatch_now(now=now)
    return None
