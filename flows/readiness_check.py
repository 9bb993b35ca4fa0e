"""`readiness-check`: evaluate every active department's gates, advance, hold or block."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from pilotscale.flows.finish import finish
from pilotscale.tasks.artifacts import publish_check_artifacts
from pilotscale.tasks.check_steps import apply_decisions, evaluate_gates
from pilotscale.tasks.policy import unwalked
from pilotscale.tasks.prefect_events import emit_department_events
from pilotscale.tasks.sources import pull_sources
from pilotscale.tasks.summary import publish_summary


@flow(name="readiness-check", log_prints=False)
async def readiness_check(
    program: str | None = None,
    as_of: datetime | None = None,
    departments: list[str] | None = None,
    dispatch: bool = True,
) -> dict[str, Any]:
    """Evaluate the gates of every active department; advance those that pass, hold the
    others and tell each gate's owner what is missing, block after `failure_limit`
    consecutive failing checks. Re-running it changes nothing and sends nothing twice."""
    now = as_of or datetime.now(UTC)
    logger = get_run_logger()
    # Fresh data first: a failing source makes its metric's gates pending, never passing.
    pulled = pull_sources(as_of=now, program=program)
    prepared = evaluate_gates(as_of=now, program=program, metric_errors=pulled.errors)
    # unwalked(): Prefect would otherwise walk every gate result of every department,
    # looking for futures, on each task call: a quarter of a 1,000-department check.
    # The cost is the dependency arrows between these tasks in the UI.
    report = apply_decisions(
        prepared=unwalked(prepared), run_id=flow_run.get_id(), departments=departments
    )
    emitted = emit_department_events(report=unwalked(report))
    publish_check_artifacts(prepared=unwalked(prepared), report=unwalked(report))
    # From the facts the check read: only the departments it moved are read again.
    publish_summary(
        as_of=now,
        program=program,
        metric_errors=pulled.errors,
        prepared=unwalked(prepared),
        report=unwalked(report),
    )
    summary = f"readiness-check {report.check_key}: {report.summary()}"
    logger.info(summary)
    for warning in prepared.warnings:  # a plan headcount the roster disagrees with
        logger.warning(warning)
    delivery = await finish(summary=summary, now=now, dispatch=dispatch)
    return {
        "check_key": report.check_key,
        "tally": report.tally(),
        "conflicts": report.conflicts,
        "enqueued": report.enqueued,
        "events": emitted,
        "decisions": {d.department: str(d.action) for d in report.decisions},
        "phases": report.phases(),
        "delivery": delivery,  # what was sent at the end of the check; None if left to dispatch
        "metric_errors": pulled.errors,
        "warnings": list(prepared.warnings),
    }
