"""Delivering what a flow enqueued at its end, without waiting for the scheduled dispatcher."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pilotscale.engine.dispatcher import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT,
)
from pilotscale.flows.dispatch_notifications import send_due


async def dispatch_now(*, now: datetime) -> dict[str, Any]:
    """Send what is due as of `now` (a simulated clock moves delivery along with it)."""
    result: dict[str, Any] = await send_due(
        now, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_TIMEOUT
    )
    return result
