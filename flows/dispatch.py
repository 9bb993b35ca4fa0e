"""Delivering what the other flows enqueued, at their end (the notifications flow owns it)."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

import anyio

log = logging.getLogger(__name__)


async def dispatch_now(*, now: datetime) -> None:
    """Send what is due at `now`. Never fails the calling flow: its change is committed
    and its messages are safe in the outbox; the scheduled dispatch-notifications run
    sends them if this one cannot."""
    from flows.dispatch_notifications import dispatch_pending

    try:
        report = await anyio.to_thread.run_sync(partial(dispatch_pending, now=now))
    except Exception as exc:
        log.warning("notifications not dispatched now (%s); they stay queued", type(exc).__name__)
        return
    if report.claimed:
        log.info("notifications: %s", report.summary())
