"""Starting mini-pilots: the department's state change, onboarding and training in one go."""

from __future__ import annotations

from datetime import datetime

from pilotscale.db import get_engine
from pilotscale.engine.start import RolloutResult, StartResult, rollout_program, start_department
from pilotscale.tasks.policy import store_task


@store_task("start-department")
def start_one(
    *,
    department: str,
    as_of: datetime,
    actor: str,
    reason: str,
    force: bool,
    program: str | None,
    run_id: str | None,
) -> StartResult:
    """Start the department: transition, champion onboarding records, training assignments
    and their notifications, in one transaction (a retry finds it started and stops)."""
    return start_department(
        engine=get_engine(),
        department=department,
        now=as_of,
        actor=actor,
        reason=reason,
        force=force,
        program=program,
        run_id=run_id,
    )


@store_task("start-eligible-departments")
def start_eligible(
    *, as_of: datetime, program: str | None, run_id: str | None, actor: str = "scheduler"
) -> RolloutResult:
    return rollout_program(
        engine=get_engine(), now=as_of, program=program, run_id=run_id, actor=actor
    )
