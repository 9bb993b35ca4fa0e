"""Operator controls (pause, resume, abort, rollback) and evidence given by people
(approvals, attestations, champion acknowledgements, training completions).

Each one names a person of the plan, is checked against the plan's permissions,
and is recorded with that person and the operating-system user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.decisions import gates_for
from pilotscale.core.gates import AnyGate
from pilotscale.core.permissions import may_acknowledge, may_approve, may_attest, may_operate
from pilotscale.core.phases import DeptState, Event
from pilotscale.engine.transitions import transition
from pilotscale.models import (
    Approval,
    Attestation,
    ChampionOnboarding,
    Department,
    Person,
    TrainingAssignment,
)
from pilotscale.plan.schema import AttestationGate
from pilotscale.refusal import Conflict
from pilotscale.store.identity import os_user
from pilotscale.store.insert import insert_ignore
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import ProgramView, load_view


class Refused(Conflict):
    """The action cannot be taken; the message is one sentence saying why and what to do."""


@dataclass(frozen=True)
class Done:
    department: str
    message: str
    changed: bool = True


def _view_and_row(
    session: Session, program: str | None, department: str
) -> tuple[ProgramView, Department]:
    view = load_view(session=session, program=program)
    row = next((d for d in view.departments if d.name == department), None)
    if row is None:
        raise NotFound("department", department, [d.name for d in view.departments])
    return view, row


def operate(
    *,
    engine: Engine,
    department: str,
    event: Event,
    by: str,
    reason: str,
    now: datetime,
    target: str | None = None,
    program: str | None = None,
    run_id: str | None = None,
) -> DeptState:
    """pause / resume / abort / rollback, by a person the plan allows, with a reason."""
    if not reason.strip():
        raise Refused(f"say why: --reason is recorded in {department}'s history")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = _view_and_row(session, program, department)
        person = may_operate(view.plan, by, event.value, department)
        return transition(
            session=session,
            department=row,
            machine=view.machine,
            event=event,
            actor=person.id,
            reason=reason,
            now=now,
            run_id=run_id,
            target=target,
        )


def approve(
    *,
    engine: Engine,
    department: str,
    gate: str,
    by: str,
    comment: str,
    now: datetime,
    via: str = "cli",
    program: str | None = None,
) -> Done:
    """Record an approval for the department's current visit to the gate's phase."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = _view_and_row(session, program, department)
        person = may_approve(view.plan, by, gate)
        _require_current_gate(view, row, gate)
        inserted = insert_ignore(
            session=session,
            model=Approval,
            rows=[
                {
                    "department_id": row.id,
                    "phase": row.phase,
                    "gate": gate,
                    "approver_key": person.id,
                    "comment": comment,
                    "approved_at": now,
                    "phase_entered_at": row.phase_entered_at,
                    "os_user": os_user(),
                    "via": via,
                }
            ],
        )
    if not inserted:
        return Done(
            department, f"{person.name} had already approved '{gate}' for {row.title}", False
        )
    return Done(department, f"approval of '{gate}' for {row.title} recorded: {person.name}")


def attest(
    *,
    engine: Engine,
    department: str,
    gate: str,
    by: str,
    evidence: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = _view_and_row(session, program, department)
        person = may_attest(view.plan, by, gate, department)
        spec = _require_current_gate(view, row, gate)
        if not isinstance(spec, AttestationGate):
            raise Refused(f"'{gate}' is a {spec.kind} gate, not an attestation")
        if spec.evidence_required and not evidence.strip():
            raise Refused(f"'{gate}' needs evidence: --evidence 'link or sentence'")
        session.add(
            Attestation(
                department_id=row.id or 0,
                phase=row.phase,
                gate=gate,
                attested_by=person.id,
                evidence=evidence,
                attested_at=now,
                expires_at=now + spec.expires_after if spec.expires_after else None,
            )
        )
    return Done(department, f"'{gate}' attested for {row.title} by {person.name}")


def acknowledge(
    *,
    engine: Engine,
    department: str,
    champion: str,
    by: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    """A champion confirms they received the welcome kit and take the role."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = _view_and_row(session, program, department)
        plan = view.plan
        champ = next((p for p in plan.people if champion in (p.id, p.email)), None)
        if champ is None or champ.id not in plan.department(department).champions:
            raise Refused(f"'{champion}' is not a champion of {department}")
        may_acknowledge(plan, by, champ.id, department)
        person_id = session.exec(
            select(Person.id).where(
                col(Person.program_id) == (view.program.id or 0), col(Person.key) == champ.id
            )
        ).one()
        onboarding = session.exec(
            select(ChampionOnboarding).where(
                col(ChampionOnboarding.department_id) == row.id,
                col(ChampionOnboarding.person_id) == person_id,
            )
        ).first()
        if onboarding is None:
            raise Refused(
                f"{champ.name} has not been onboarded yet (the department is not started)"
            )
        if onboarding.acknowledged_at is not None:
            return Done(department, f"{champ.name} had already acknowledged", False)
        onboarding.acknowledged_at = now
        session.add(onboarding)
    return Done(department, f"{champ.name} acknowledged the champion role for {row.title}")


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


def _require_current_gate(view: ProgramView, row: Department, gate: str) -> AnyGate:
    """Evidence counts for the visit to the phase it was given in, so it must be a gate of
    the department's current phase (approving ahead of time would outlive a rollback)."""
    known = row.phase in view.plan.phase_names()
    gates = {g.name: g for g in gates_for(view.plan, row.phase)} if known else {}
    if gate not in gates:
        owning = [p.name for p in view.plan.phases if gate in p.exit_gates]
        where = f" (it belongs to phase '{owning[0]}')" if owning else ""
        raise Refused(
            f"'{gate}' is not a gate of {row.name}'s current phase '{row.phase}'{where}; "
            "evidence is given while the department is in that phase"
        )
    return gates[gate]
