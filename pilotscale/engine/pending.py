"""What one person must do now, across departments: the "my actions" page and the
links in a person's messages start from it.

A minimal reader: a champion who has not acknowledged; an attestation gate the person
owns that does not pass in a department's current phase; an approval gate of a current
phase that the person approves and has not approved in this visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.decisions import gates_for
from pilotscale.core.permissions import identify
from pilotscale.core.recipients import gate_owner
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.links import Purpose, visit_key
from pilotscale.models import Department
from pilotscale.plan.schema import ApprovalGate, AttestationGate
from pilotscale.store.department_rows import approvals_of, unacknowledged_by
from pilotscale.store.snapshot import load_view, state_of


@dataclass(frozen=True)
class PendingAction:
    purpose: Purpose
    department: str
    department_title: str
    gate: str  # '' for a champion's acknowledgement
    gate_title: str
    what: str  # one sentence: what to do
    visit: str  # links.visit_key of the department's current phase visit


def pending_actions(
    *, engine: Engine, person: str, now: datetime, program: str | None = None
) -> list[PendingAction]:
    """`person` (plan id or email)'s actions, by department then gate.
    Forbidden (NotAllowed) when the plan has no such person."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        plan, machine = view.plan, view.machine
        who = identify(plan, person)
        by_id = {d.id or 0: d for d in view.departments}
        out: list[PendingAction] = []
        for ident in unacknowledged_by(
            session=session, program_id=view.program.id or 0, person=who.id
        ):
            d = by_id.get(ident)
            if d is not None:
                out.append(
                    PendingAction(
                        Purpose.acknowledge,
                        d.name,
                        d.title,
                        "",
                        "",
                        f"Accept the champion role for {d.title}",
                        visit_key(d.phase_entered_at),
                    )
                )
        attest: dict[str, list[AttestationGate]] = {}
        decide: dict[str, list[ApprovalGate]] = {}
        live = [
            d
            for d in view.departments
            if machine.is_started(state_of(d)) and machine.index(d.phase) is not None
        ]
        for d in live:
            spec = plan.department(d.name)
            for g in gates_for(plan, d.phase):
                if isinstance(g, AttestationGate) and gate_owner(plan, spec, g.name) == who.id:
                    attest.setdefault(d.name, []).append(g)
                elif isinstance(g, ApprovalGate) and who.id in g.approvers:
                    decide.setdefault(d.name, []).append(g)
        verdicts = read_verdicts(session=session, view=view, now=now, names=list(attest))
        given = approvals_of(
            session=session, department_ids=[view.department(n).id or 0 for n in decide]
        )
        for d in live:
            verdict = verdicts.get(d.name)
            passing = {g.gate for g in verdict.gates if g.passes} if verdict else set()
            for g in attest.get(d.name, []):
                if g.name not in passing:
                    out.append(_action(Purpose.attest, d, g.name, g.title, "Attest with evidence"))
            mine = {
                a.gate
                for a in given.get(d.id or 0, [])
                if a.approver_key == who.id and a.phase_entered_at == d.phase_entered_at
            }
            for g in decide.get(d.name, []):
                if g.name not in mine:
                    out.append(_action(Purpose.decide, d, g.name, g.title, "Approve or reject"))
    order = list(Purpose)
    return sorted(out, key=lambda a: (a.department, order.index(a.purpose), a.gate))


def _action(purpose: Purpose, d: Department, gate: str, title: str, verb: str) -> PendingAction:
    return PendingAction(
        purpose,
        d.name,
        d.title,
        gate,
        title,
        f"{verb}: '{title}' for {d.title}",
        visit_key(d.phase_entered_at),
    )
