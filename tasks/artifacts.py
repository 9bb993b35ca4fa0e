"""What a readiness check shows in the Prefect UI: a table, a progress bar, a summary."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_progress_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from pilotscale.core.decisions import Action
from pilotscale.engine.check import CheckReport, PreparedCheck
from pilotscale.store.snapshot import state_of


def _key(program: str, what: str) -> str:
    # Artifact keys allow lower-case letters, digits and dashes only.
    safe = "".join(c if c.isalnum() else "-" for c in program.lower()).strip("-")
    return f"{safe}-{what}"[:64]


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_check_artifacts(*, prepared: PreparedCheck, report: CheckReport) -> None:
    plan = prepared.view.plan
    rows = []
    for decision in report.decisions:
        if decision.verdict is None:
            rows.append(
                {
                    "department": decision.department,
                    "phase": str(decision.before),
                    "action": str(decision.action),
                    "gate": "",
                    "outcome": "",
                    "reason": decision.reason,
                }
            )
            continue
        for r in decision.verdict.results:
            rows.append(
                {
                    "department": decision.department,
                    "phase": str(decision.before),
                    "action": str(decision.action),
                    "gate": r.gate,
                    "outcome": str(r.outcome),
                    "reason": r.reason,
                }
            )
    create_table_artifact(
        key=_key(plan.program.name, "readiness"),
        table=rows,
        description=f"Readiness check {report.check_key}: {report.summary()}",
    )
    machine = prepared.view.machine
    arriving = {
        x.department
        for x in report.decisions
        if x.action is Action.advance and x.after.phase == machine.final
    }
    operating = sum(
        1
        for d in prepared.view.departments
        if state_of(d).phase == machine.final or d.name in arriving
    )
    total = len(prepared.view.departments) or 1
    create_progress_artifact(
        progress=100.0 * operating / total,
        key=_key(plan.program.name, "operating"),
        description=f"{operating} of {total} departments operating",
    )
