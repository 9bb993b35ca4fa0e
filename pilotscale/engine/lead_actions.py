"""The program lead's controls over the whole program and over single gates: pausing and
resuming the program, waiving a gate until a date. Each is one transaction, recorded
with who did it and how their identity is known (as every action, engine/acting.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, update

from pilotscale.core.actors import Actor
from pilotscale.core.controls import Waiver as WaiverRule
from pilotscale.core.controls import active_waivers, waived_text
from pilotscale.core.duties import acting, require_text
from pilotscale.core.permissions import allow_lead
from pilotscale.core.replies import gate_waived
from pilotscale.engine.acting import (
    Done,
    Refused,
    begin,
    on_behalf_note,
    recorded_os_user,
    require_current_gate,
    view_and_row,
)
from pilotscale.engine.enqueue import enqueue
from pilotscale.models import Program, ProgramControl, Waiver
from pilotscale.store.snapshot import load_view
from pilotscale.store.waivers import waivers_of


def set_program_paused(
    *,
    engine: Engine,
    paused: bool,
    actor: Actor,
    reason: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    """Pause (`paused`) or resume the program: while paused, readiness checks skip every
    department and no department starts. A lead only, with a reason."""
    verb = "pause" if paused else "resume"
    require_text(reason, what=f"say why: --reason is recorded with the program's {verb}")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view = load_view(session=session, program=program)
        act = acting(view.plan, actor)
        allow_lead(view.plan, act.subject, f"{verb} the program")
        name = view.plan.program.name
        # Changed only if it is not already so: two leads pausing at once record one pause.
        changed = session.exec(
            update(Program)
            .where(col(Program.id) == view.program.id, col(Program.paused) == (not paused))
            .values(paused=paused)
        ).rowcount
        if not changed:
            already = "paused" if paused else "running (not paused)"
            return Done(name, f"the program {name} is already {already}", changed=False)
        session.add(
            ProgramControl(
                program_id=view.program.id or 0,
                event=verb,
                actor=act.person.id,
                reason=reason,
                at=now,
                identity_source=act.identity_source,
                on_behalf_of=act.subject.id if act.on_behalf else "",
                os_user=recorded_os_user(actor),
            )
        )
    state = "paused: checks skip every department" if paused else "resumed"
    return Done(name, f"{name} {state} ({reason}){on_behalf_note(act)}")


def waive(
    *,
    engine: Engine,
    department: str,
    gate: str,
    actor: Actor,
    reason: str,
    until: datetime,
    now: datetime,
    program: str | None = None,
) -> Done:
    """Let a gate of the department's current phase count as passing until `until`, with
    a reason, by a lead; its sponsor and the gate's owner are told in the same transaction.
    The gate is still evaluated and shown; from `until` it counts again."""
    require_text(reason, what=f"say why: --reason is recorded in {department}'s history")
    until = until if until.tzinfo else until.replace(tzinfo=UTC)
    if until <= now:
        raise Refused(f"--until {until:%Y-%m-%d %H:%M %Z} is past: a waiver ends in the future")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        allow_lead(view.plan, act.subject, f"waive '{gate}' for '{department}'")
        require_current_gate(view, row, gate)
        session.add(_waiver(row, gate, until=until, reason=reason, act=act, actor=actor, now=now))
        spec = view.plan.department(department)
        messages = gate_waived(
            view.plan,
            spec,
            phase=row.phase,
            gate=gate,
            waived_by=act.subject.id,
            until=until,
            reason=reason,
            now=now,
            entered_by=act.person.id if act.on_behalf else None,
            on_behalf_reason=act.reason,
        )
        enqueue(
            session=session,
            plan=view.plan,
            program_id=view.program.id or 0,
            department_ids={department: row.id or 0},
            messages=messages,
            now=now,
        )
    rule = WaiverRule(gate, until, act.subject.name, reason)
    told = ", ".join(sorted({m.recipient for m in messages}))
    return Done(department, f"'{gate}' {waived_text(rule)} ({reason}); told {told}")


def waiver_rule(row: Waiver, names: dict[str, str]) -> WaiverRule:
    """The core's view of a stored waiver; `names`: person id -> name."""
    return WaiverRule(row.gate, row.until, names.get(row.actor, row.actor), row.reason, row.at)


def revoke_waiver(
    *,
    engine: Engine,
    department: str,
    gate: str,
    actor: Actor,
    reason: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    """End the waiver of `gate` in force in `department` now, with a reason, by a lead: the
    gate counts again from this moment (core.controls.is_revocation). Nobody is told: the
    gate's owner hears from the next check if it holds, as for any gate."""
    require_text(reason, what=f"say why: --reason is recorded in {department}'s history")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        allow_lead(view.plan, act.subject, f"revoke the waiver of '{gate}' for '{department}'")
        names = {p.id: p.name for p in view.plan.people}
        recorded = waivers_of(session=session, department_ids=[row.id or 0]).get(row.id or 0, [])
        if gate not in active_waivers([waiver_rule(w, names) for w in recorded], now):
            raise Refused(
                f"'{gate}' has no waiver in force in {department}: nothing to revoke "
                "(pilotscale history shows its waivers)"
            )
        # A waiver that ends the moment it is recorded: the latest row is the one in force.
        session.add(_waiver(row, gate, until=now, reason=reason, act=act, actor=actor, now=now))
    return Done(
        department,
        f"the waiver of '{gate}' is revoked ({reason}): it counts again now{on_behalf_note(act)}",
    )


def _waiver(
    row: Any, gate: str, *, until: datetime, reason: str, act: Any, actor: Any, now: datetime
) -> Waiver:
    """The waiver row a lead's waive or revoke records, with who acted and how."""
    return Waiver(
        department_id=row.id or 0,
        gate=gate,
        phase=row.phase,
        until=until,
        reason=reason,
        actor=act.subject.id,
        at=now,
        identity_source=act.identity_source,
        on_behalf_of=act.person.id if act.on_behalf else "",
        os_user=recorded_os_user(actor),
    )
