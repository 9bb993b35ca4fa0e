"""Readiness-check tasks: a constant number per check, whatever the number of departments."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import OperationalError

from pilotscale.db import get_engine
from pilotscale.engine.readiness import CheckReport, PreparedCheck, apply_check, prepare_check


def _transient(task: object, task_run: object, state: object) -> bool:
    """Retry only what a retry can fix: the database being briefly unavailable or locked."""
    try:
        state.result()  # type: ignore[attr-defined]
    except OperationalError:
        return True
    except Exception:
        return False
    return False


@task(
    name="evaluate-gates",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=_transient,
)
def evaluate_gates(
    *,
    as_of: datetime,
    program: str | None = None,
    metric_errors: dict[str, str] | None = None,
) -> PreparedCheck:
    """Every gate of every active department, from one aggregate query per kind of fact.

    `metric_errors` are the metric sources that failed to pull: their gates pend.
    """
    return prepare_check(
        engine=get_engine(), now=as_of, program=program, metric_errors=metric_errors
    )


@task(
    name="apply-decisions",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=_transient,
)
def apply_decisions(
    *, prepared: PreparedCheck, run_id: str | None, departments: list[str] | None = None
) -> CheckReport:
    """Advance, hold or block each department in its own transaction, with its messages.

    Safe to retry: departments already applied by the failed attempt are at a new
    version and are skipped; their notifications are deduplicated by key.
    """
    return apply_check(
        engine=get_engine(), prepared=prepared, run_id=run_id, departments=departments
    )
