"""Operator controls (pause, resume, abort, rollback) and evidence given by people
(attestations, training completions); approvals, champions' answers and barriers are in
their own modules and exported here too, so callers find every action in one place.

Each action names its actor (pilotscale.core.actors): a person of the plan acting for
themself, or an operator acting on their behalf with a reason; it is checked against the
plan's permissions and separation of duties, and recorded with the person, how their
identity is known, and the operating-system user.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.actors import Actor, Source
from pilotscale.core.duties import require_text
from pilotscale.core.permissions import allow_attest, allow_operate
from pilotscale.core.phases import DeptState, Event
from pilotscale.engine.acting import (
    Done,
    LinkUsed,
    Refused,
    begin,
    cli_actor,
    on_behalf_note,
    recorded_os_user,
    require_current_gate,
    use_link,
    view_and_row,
)
from pilotscale.engine.approvals import approve, reject
from pilotscale.engine.barriers import report_barrier
from pilotscale.engine.champions import acknowledge, decline
from pilotscale.engine.transitions import transition
from pilotscale.links import Purpose
from pilotscale.models import Attestation, Person, TrainingAssignment
from pilotscale.plan.schema import AttestationGate
from pilotscale.store.snapshot import load_view

__all__ = [
    "Actor",
    "Done",
    "LinkUsed",
    "Refused",
    "Source",
    "acknowledge",
    "approve",
    "attest",
    "cli_actor",
    "complete_training",
    "decline",
    "operate",
    "reject",
    "report_barrier",
]


def operate(
    *,
    engine: Engine,
    department: str,
    event: Event,
    actor: Actor,
    reason: str,
    now: datetime,
    target: str | None = None,
    program: str | None = None,
    run_id: str | None = None,
) -> DeptState:
    """pause / resume / abort / rollback, by a person the plan allows, with a reason."""
    require_text(reason, what=f"say why: --reason is recorded in {department}'s history")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        allow_operate(view.plan, act.subject, event.value, department)
        use_link(
            session,
            actor,
            purpose=Purpose.operate,
            person=act.person.id,
            department_id=row.id,
            now=now,
        )
        return transition(
            session=session,
            department=row,
            machine=view.machine,
            event=event,
            actor=act.person.id,
            reason=reason,
            now=now,
            run_id=run_id,
            target=target,
            identity_source=act.identity_source,
            on_behalf_of=act.subject.id if act.on_behalf else "",
            os_user_name=recorded_os_user(actor),
        )


def attest(
    *,
    engine: Engine,
    department: str,
    gate: str,
    actor: Actor,
    evidence: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    """The gate's owner confirms its checklist item, with evidence (a link or a sentence)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        allow_attest(view.plan, act.subject, gate, department)
        spec = require_current_gate(view, row, gate)
        if not isinstance(spec, AttestationGate):
            raise Refused(f"'{gate}' is a {spec.kind} gate, not an attestation")
        if spec.evidence_required and not evidence.strip():
            raise Refused(f"'{gate}' needs evidence: --evidence 'link or sentence'")
        use_link(
            session,
            actor,
            purpose=Purpose.attest,
            person=act.person.id,
            department_id=row.id,
            now=now,
        )
        session.add(
            Attestation(
                department_id=row.id or 0,
                phase=row.phase,
                gate=gate,
                attested_by=act.subject.id,
                evidence=evidence,
                attested_at=now,
                expires_at=now + spec.expires_after if spec.expires_after else None,
                identity_source=act.identity_source,
                acted_by=act.acted_by,
                on_behalf_reason=act.reason,
                os_user=recorded_os_user(actor),
            )
        )
    return Done(
        department, f"'{gate}' attested for {row.title} by {act.subject.name}{on_behalf_note(act)}"
    )


def complete_training(
    *,
    engine: Engine,
    person: str,
    module: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    """Record that `person` (email or id) completed `module` (as an LMS export would)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view = load_view(session=session, program=program)
        spec = next((p for p in view.plan.people if person in (p.id, p.email)), None)
        if spec is None:
            raise Refused(f"'{person}' is not a person of the plan")
        row = session.exec(
            select(TrainingAssignment)
            .join(Person, col(Person.id) == col(TrainingAssignment.person_id))
            .where(
                col(Person.program_id) == (view.program.id or 0),
                col(Person.key) == spec.id,
                col(TrainingAssignment.module_id) == module,
            )
        ).first()
        if row is None:
            raise Refused(f"{spec.name} has no assignment '{module}'")
        if row.completed_at is not None:
            return Done(spec.department or "", f"{spec.name} had already completed {module}", False)
        row.completed_at = now
        session.add(row)
    return Done(spec.department or "", f"{spec.name} completed {module}")
