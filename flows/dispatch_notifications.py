"""The `dispatch-notifications` flow: send every notification that is due.

A thin shell over engine.dispatcher: one task (retried if the store is briefly
unreachable) and a logged summary. Other flows call `dispatch_pending` at their end
instead, so what they queued goes out without waiting for the next scheduled run.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

import anyio
from prefect import flow, get_run_logger, task
from sqlalchemy import Engine

from pilotscale.engine.dispatcher import DispatchReport, dispatch
from pilotscale.notifications.defaults import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT,
)


def dispatch_pending(
    *,
    engine: Engine | None = None,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout: float = DEFAULT_TIMEOUT,
) -> DispatchReport:
    """Send what is due in the configured store (or `engine`); no Prefect needed."""
    from pilotscale.db import get_engine

    return dispatch(
        engine=engine if engine is not None else get_engine(),
        now=now,
        batch_size=batch_size,
        concurrency=concurrency,
        max_attempts=max_attempts,
        timeout=timeout,
    )


def report_fields(report: DispatchReport) -> dict[str, Any]:
    return {
        "claimed": report.claimed,
        "sent": report.sent,
        "local_files": report.local_files,
        "retrying": report.retrying,
        "uncertain": report.uncertain,
        "dead": report.dead,
        "alerts": report.alerts,
        "waiting": report.waiting,  # held for quiet hours or a digest day: not failed
        "seconds": round(report.seconds, 3),
        "errors": list(report.errors),  # already scrubbed of channel secrets
    }


@task(name="send-due-notifications", retries=2, retry_delay_seconds=[5, 30])
async def send_due(
    as_of: datetime | None,
    batch_size: int,
    concurrency: int,
    max_attempts: int,
    timeout: float,
) -> dict[str, Any]:
    # The sends block on sockets: run them off the event loop.
    report = await anyio.to_thread.run_sync(
        partial(
            dispatch_pending,
            now=as_of,
            batch_size=batch_size,
            concurrency=concurrency,
            max_attempts=max_attempts,
            timeout=timeout,
        )
    )
    return report_fields(report)


@flow(name="dispatch-notifications", log_prints=False)
async def dispatch_notifications(
    as_of: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict[str, Any]:
    """Send every due notification of every program; returns the counts."""
    logger = get_run_logger()
    result = await send_due(as_of, batch_size, concurrency, max_attempts, timeout)
    logger.info(
        "notifications: %s sent (%s to the local folder), %s to retry, %s uncertain, "
        "%s dead, %s alerts queued, in %ss",
        result["sent"],
        result["local_files"],
        result["retrying"],
        result["uncertain"],
        result["dead"],
        result["alerts"],
        result["seconds"],
    )
    for error in result["errors"]:
        logger.warning("not delivered: %s", error)
    return result
