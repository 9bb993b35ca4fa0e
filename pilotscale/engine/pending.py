"""What one person must do now, across departments: the "my actions" reader.

Read-only, in one batch of queries whatever the number of departments: the program, the
person's champion roles, and the verdicts (engine.verdicts, the one reader) of the
departments where they own an attestation gate or approve one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.decisions import gates_for
from pilotscale.core.facts import latest_decisions
from pilotscale.core.permissions import identify
from pilotscale.core.recipients import gate_owner
from pilotscale.core.states import Status
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.links import Purpose, visit_key
from pilotscale.models import ChampionOnboarding, Department, Person
from pilotscale.plan.schema import ApprovalGate, AttestationGate, Plan
from pilotscale.store.snapshot import load_view, state_of


@dataclass(frozen=True)
class PendingAction:
    purpose: Purpose
    department: str
    department_title: str
    gate: str  # '' when the action is about no gate
    gate_title: str
    what: str  # one plain sentence
    visit: str  # links.visit_key of the department's current phase visit


def pending_actions(
    *, engine: Engine, person: str, now: datetime, program: str | None = None
) -> list[PendingAction]:
    """`person` (email or id)'s actions, by department in plan order: answer the champion
    role, attest the gates they own, decide the gates they approve, resume what they paused."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        plan, machine = view.plan, view.machine
        me = identify(plan, person)
        live = [
            d
            for d in view.departments
            if machine.is_started(state_of(d))
            and d.status != Status.aborted.value
            and machine.index(d.phase) is not None
        ]
        unanswered = _unanswered_champion_roles(session, view.program.id or 0, me.id, now)
        gated = [d for d in live if _concerns(plan, d, me.id)]
        verdicts = read_verdicts(session=session, view=view, now=now, departments=gated)
    out: list[PendingAction] = []
    for d in live:
        spec = plan.department(d.name)
        found: list[tuple[Purpose, str, str, str]] = []  # purpose, what, gate, gate title
        if d.id in unanswered:
            found.append(
                (Purpose.acknowledge, f"Accept or decline the champion role for {d.title}.", "", "")
            )
        verdict = verdicts.get(d.name)
        for g in verdict.gates if verdict else ():
            gate = plan.gates_by_name.get(g.gate)
            if (
                isinstance(gate, AttestationGate)
                and gate_owner(plan, spec, gate.name) == me.id
                and not g.passes
            ):
                what = f"Attest for {d.title}: {gate.checklist}"
                found.append((Purpose.attest, what, gate.name, gate.title))
            decided = latest_decisions(verdict.facts.approvals.get(g.gate, ())) if verdict else {}
            mine = decided.get(me.id)
            if isinstance(gate, ApprovalGate) and me.id in gate.approvers:
                # A rejection holds the gate until its approver decides again: it stays
                # theirs to act on, once what they asked for is done.
                if mine is None:
                    what = f"Approve or reject '{gate.title}' for {d.title}."
                    found.append((Purpose.decide, what, gate.name, gate.title))
                elif mine.rejects:
                    what = (
                        f"You rejected '{gate.title}' for {d.title}: approve once what you "
                        "asked for is done."
                    )
                    found.append((Purpose.decide, what, gate.name, gate.title))
        if spec.sponsor == me.id and d.status == Status.paused.value:
            found.append((Purpose.operate, f"{d.title} is paused: resume it when ready.", "", ""))
        visit = visit_key(d.phase_entered_at)
        out += [
            PendingAction(purpose, d.name, d.title, gate, title, what, visit)
            for purpose, what, gate, title in found
        ]
    return out


def _concerns(plan: Plan, department: Department, person: str) -> bool:
    """Does `person` own an attestation gate or approve a gate of the department's phase?"""
    spec = plan.department(department.name)
    for gate in gates_for(plan, department.phase):
        if isinstance(gate, ApprovalGate) and person in gate.approvers:
            return True
        if isinstance(gate, AttestationGate) and gate_owner(plan, spec, gate.name) == person:
            return True
    return False


def _unanswered_champion_roles(
    session: Session, program_id: int, person: str, now: datetime
) -> set[int]:
    """Department ids where `person` was onboarded as champion and has not answered."""
    rows = session.exec(
        select(ChampionOnboarding.department_id, ChampionOnboarding.acknowledged_at)
        .join(Person, col(Person.id) == col(ChampionOnboarding.person_id))
        .where(
            col(Person.program_id) == program_id,
            col(Person.key) == person,
            col(ChampionOnboarding.declined_at).is_(None),
            col(ChampionOnboarding.created_at) <= now,
        )
    ).all()
    return {dept for dept, acked in rows if acked is None or acked > now}
