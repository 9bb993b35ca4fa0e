"""`await-approval`: wait, suspended, for an approver to approve a gate in the Prefect UI.

The run suspends (no process is kept waiting) until someone resumes it with the form
below. Prefect's open-source server has no user identity, so the email typed into the
form is only a claim: the approval is recorded through `operator.approve`, which checks
that person against the plan's approvers of the gate, exactly as `pilotscale approve`
does; anyone else gets a failed run saying who may approve, and nothing is recorded.

Suspending ends the process; on resume Prefect runs the flow again from the top, and
`asuspend_flow_run` with the same key then returns the submitted input instead of
suspending again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from prefect import flow, get_run_logger
from prefect.flow_runs import asuspend_flow_run
from prefect.input import RunInput
from pydantic import Field
from sqlmodel import Session

from flows.naming import rename_current_run
from pilotscale.core.permissions import NotAllowed
from pilotscale.db import get_engine
from pilotscale.engine import operator
from pilotscale.plan.schema import ApprovalGate
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import load_view


class ApprovalInput(RunInput):
    approver: str = Field(description="Your email address, as the rollout plan lists it.")
    comment: str = Field(default="", description="Recorded with the approval.")


class ApprovalRefused(Exception):
    """The approval cannot be recorded; the message says why and who may approve."""


def _approvers(department: str, gate: str, program: str | None) -> tuple[str, list[str]]:
    """The department's title and the approvers' emails; refuses a gate that is not an
    approval gate of the department's current phase (nobody could approve it now)."""
    with Session(get_engine()) as session:
        view = load_view(session=session, program=program)
    row = next((d for d in view.departments if d.name == department), None)
    if row is None:
        raise NotFound("department", department, [d.name for d in view.departments])
    spec = next((g for g in view.plan.gates if g.name == gate), None)
    if not isinstance(spec, ApprovalGate):
        raise ApprovalRefused(f"'{gate}' is not an approval gate of the plan")
    phase = next((p for p in view.plan.phases if p.name == row.phase), None)
    if phase is None or gate not in phase.exit_gates:
        raise ApprovalRefused(
            f"'{gate}' is not a gate of {department}'s current phase '{row.phase}'"
        )
    return row.title, [view.plan.person(a).email for a in spec.approvers]


def _pause_key(department: str, gate: str) -> str:
    # Prefect allows lower-case letters, digits and dashes in the key of a run input.
    raw = f"approval-{department}-{gate}".lower()
    return "".join(c if c.isalnum() or c == "-" else "-" for c in raw)


@flow(name="await-approval")
async def await_approval(department: str, gate: str, program: str | None = None) -> dict[str, Any]:
    """Wait for an approver to approve `gate` for `department`, then record it (via "ui")."""
    title, approvers = _approvers(department, gate, program)
    await rename_current_run(f"await-approval {department} {gate}: waiting")
    description = (
        f"**Approve '{gate}' for {title}.**\n\n"
        f"Only these approvers may approve: {', '.join(approvers)}. "
        "Type your own email address; it is checked against the plan and recorded."
    )
    answer = await asuspend_flow_run(
        wait_for_input=ApprovalInput.with_initial_data(description=description),
        key=_pause_key(department, gate),
    )
    try:
        done = operator.approve(
            engine=get_engine(),
            department=department,
            gate=gate,
            by=answer.approver,
            comment=answer.comment,
            now=datetime.now(UTC),
            via="ui",
            program=program,
        )
    except (NotAllowed, operator.Refused) as exc:
        await rename_current_run(f"await-approval {department} {gate}: refused")
        raise ApprovalRefused(f"approval not recorded: {exc}") from None
    get_run_logger().info(done.message)
    await rename_current_run(f"await-approval {department} {gate}: approved by {answer.approver}")
    return {
        "department": department,
        "gate": gate,
        "approver": answer.approver,
        "recorded": done.changed,
        "message": done.message,
    }
