"""Readiness-check tasks: a constant number per check, whatever the number of departments."""

from __future__ import annotations

from datetime import datetime

from pilotscale.db import get_engine
from pilotscale.engine.check import CheckReport, PreparedCheck, apply_check, prepare_check
from pilotscale.tasks.policy import store_task


@store_task("evaluate-gates")
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


@store_task("apply-decisions")
def apply_decisions(
    *, prepared: PreparedCheck, run_id: str | None, departments: list[str] | None = None
) -> CheckReport:
    """Advance, hold or block each department in its own transaction, with its messages.

    Safe to retry: departments already applied by the failed attempt are at a new
    version and are skipped, yet counted as this run's (the store records the run id);
    their notifications are deduplicated by key.
    """
    return apply_check(
        engine=get_engine(), prepared=prepared, run_id=run_id, departments=departments
    )
