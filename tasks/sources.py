"""Pulling the plan's due metric sources, before the readiness check evaluates its gates."""

from __future__ import annotations

from datetime import datetime

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from pilotscale.db import get_engine
from pilotscale.engine.pull import PullReport, pull_due_sources


@task(name="pull-metric-sources", cache_policy=NO_CACHE)
def pull_sources(*, as_of: datetime, program: str | None = None) -> PullReport:
    """HTTP and SQL sources that are due, each with its own timeout and retries.

    Never fails the flow: a source that cannot be read is returned in `errors`, and
    the check makes that metric's gates pending with the reason.
    """
    report = pull_due_sources(engine=get_engine(), now=as_of, program=program)
    logger = get_run_logger()
    for metric, why in report.errors.items():
        logger.warning("metric source %s failed: %s (its gates are pending)", metric, why)
    logger.info("metric sources: %s", report.summary())
    return report
