"""Approvers decide: approve or reject an approval gate of a department's current visit.

Each decision is a row; the latest of each approver in the visit is the one that counts
(core.gates). A rejection holds the gate and tells the program lead.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.actors import Actor
from pilotscale.core.duties import forbid_self_approval, require_text
from pilotscale.core.permissions import allow_decide
from pilotscale.core.replies import approval_rejected
from pilotscale.engine.acting import (
    Done,
    begin,
    on_behalf_note,
    recorded_os_user,
    require_current_gate,
    use_link,
    view_and_row,
)
from pilotscale.engine.enqueue import enqueue
from pilotscale.links import Purpose
from pilotscale.models import Approval
from pilotscale.store.visit_queries import visit_attesters, visit_requesters


def approve(
    *,
    engine: Engine,
    department: str,
    gate: str,
    actor: Actor,
    comment: str,
    now: datetime,
    via: str | None = None,
    program: str | None = None,
) -> Done:
    """Record an approval for the department's current visit to the gate's phase.

    Refused for anyone not listed as the gate's approver, and for an approver who moved
    the department into this phase or attested one of its gates (no self-approval).
    """
    return _decide(
        engine=engine,
        department=department,
        gate=gate,
        actor=actor,
        comment=comment,
        now=now,
        via=via,
        program=program,
        decision="approve",
    )


def reject(
    *,
    engine: Engine,
    department: str,
    gate: str,
    actor: Actor,
    comment: str,
    now: datetime,
    via: str | None = None,
    program: str | None = None,
) -> Done:
    """Record a rejection (its comment says why): the gate fails with it until the same
    approver approves after all; the program lead is told."""
    return _decide(
        engine=engine,
        department=department,
        gate=gate,
        actor=actor,
        comment=require_text(
            comment, what="say why you reject: --comment TEXT is shown with the rejection"
        ),
        now=now,
        via=via,
        program=program,
        decision="reject",
    )


def _decide(
    *,
    engine: Engine,
    department: str,
    gate: str,
    actor: Actor,
    comment: str,
    now: datetime,
    via: str | None,
    program: str | None,
    decision: str,
) -> Done:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        approver = act.subject
        spec = allow_decide(view.plan, approver, gate)
        require_current_gate(view, row, gate)
        if decision == "approve":
            dept_id, phase, entered = row.id or 0, row.phase, row.phase_entered_at
            forbid_self_approval(
                view.plan,
                approver,
                gate=spec,
                department=department,
                requested_by=visit_requesters(
                    session=session, department_id=dept_id, phase=phase, phase_entered_at=entered
                ),
                attested_by=visit_attesters(
                    session=session, department_id=dept_id, phase=phase, phase_entered_at=entered
                ),
            )
        latest = session.exec(
            select(Approval.decision)
            .where(
                col(Approval.department_id) == row.id,
                col(Approval.gate) == gate,
                col(Approval.approver_key) == approver.id,
                col(Approval.phase_entered_at) == row.phase_entered_at,
            )
            .order_by(col(Approval.approved_at).desc(), col(Approval.id).desc())
        ).first()
        if latest == decision:
            verb = "approved" if decision == "approve" else "rejected"
            return Done(
                department, f"{approver.name} had already {verb} '{gate}' for {row.title}", False
            )
        use_link(
            session,
            actor,
            purpose=Purpose.decide,
            person=act.person.id,
            department_id=row.id,
            now=now,
        )
        session.add(
            Approval(
                department_id=row.id or 0,
                phase=row.phase,
                gate=gate,
                approver_key=approver.id,
                comment=comment,
                approved_at=now,
                phase_entered_at=row.phase_entered_at,
                os_user=recorded_os_user(actor),
                via=via or actor.source.value,
                decision=decision,
                identity_source=act.identity_source,
                acted_by=act.acted_by,
                on_behalf_reason=act.reason,
            )
        )
        if decision == "reject":
            enqueue(
                session=session,
                plan=view.plan,
                program_id=view.program.id or 0,
                department_ids={row.name: row.id or 0},
                messages=approval_rejected(
                    view.plan,
                    view.plan.department(row.name),
                    phase=row.phase,
                    gate=gate,
                    approver=approver.id,
                    comment=comment,
                    now=now,
                    entered_by=act.person.id if act.on_behalf else None,
                    on_behalf_reason=act.reason,
                ),
                now=now,
            )
    note = on_behalf_note(act)
    if decision == "reject":
        return Done(
            department,
            f"rejection of '{gate}' for {row.title} recorded: {approver.name}{note}; "
            "the program lead is told",
        )
    return Done(department, f"approval of '{gate}' for {row.title} recorded: {approver.name}{note}")
