"""Every call from the web app to an engine action, in one place.

The engine's actions take `by: str` today; the actor (`core.actors.Actor`: the person,
how we know it is them, the link's nonce and visit) is built here and narrowed to `by`
here, so that moving the engine to `actor: Actor` changes this module only.

Until the store records used link nonces, a replayed link is refused by the action's
own idempotence: an acknowledgement or approval already given, an attestation by the
same person still valid in the same visit, a pause of a paused department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.actors import Actor, Source
from pilotscale.core.permissions import identify
from pilotscale.core.phases import Event
from pilotscale.engine import operator
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.links import Link, Purpose, visit_key
from pilotscale.models import Department
from pilotscale.refusal import Conflict, Invalid, Missing
from pilotscale.store.department_rows import approvals_of, attestations_of, champions_of
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import load_view

ACTIONS = (Purpose.acknowledge, Purpose.attest, Purpose.decide, Purpose.operate, Purpose.barrier)


class NotYetAvailable(Conflict):
    """The page offers it, the engine does not do it yet."""


class AlreadyUsed(Conflict):
    """The link's action was already taken (the link is used up)."""


class MovedOn(Conflict):
    """The link was made for a phase visit the department has left."""


@dataclass(frozen=True)
class Facts:
    """What an action page shows before the person confirms."""

    purpose: Purpose
    person: str
    person_name: str
    department: str
    department_title: str
    phase: str
    status: str
    gate: str
    gate_title: str
    gate_outcome: str  # '' when the gate is not evaluated
    gate_reason: str
    done: str  # '' or the sentence saying it was already done


def link_actor(link: Link) -> Actor:
    return Actor(
        person=link.person, source=Source.link, link_nonce=link.nonce, visit=link.visit or None
    )


def proxy_actor(person: str, *, visit: str) -> Actor:
    return Actor(person=person, source=Source.proxy, visit=visit or None)


def facts(
    *, engine: Engine, purpose: Purpose, actor: Actor, department: str, gate: str, now: datetime
) -> Facts:
    """The facts of the action, read only. Refused (nothing to confirm) when the person is
    not in the plan, the department is unknown or it has left the link's visit."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=None)
        row = _department(view.departments_by_name, department)
        person = identify(view.plan, actor.subject)
        _require_visit(row, actor)
        verdict = read_verdicts(session=session, view=view, now=now, names=[department]).get(
            department
        )
        found = next((g for g in verdict.gates if g.gate == gate), None) if verdict else None
        spec = view.plan.gates_by_name.get(gate)
        done = _already_done(session, purpose, row, person.id, gate, now)
    if gate and spec is None and found is None:
        raise NotFound("gate", gate, view.plan.gates_by_name)
    return Facts(
        purpose=purpose,
        person=person.id,
        person_name=person.name,
        department=row.name,
        department_title=row.title,
        phase=row.phase,
        status=row.status,
        gate=gate,
        gate_title=found.title if found else (spec.title if spec else ""),
        gate_outcome=str(found.outcome) if found else "",
        gate_reason=found.reason if found else "",
        done=done,
    )


def perform(
    *,
    engine: Engine,
    purpose: Purpose,
    actor: Actor,
    department: str,
    gate: str,
    form: Mapping[str, str],
    now: datetime,
) -> str:
    """Take the action; its one-sentence result, or a refusal with nothing recorded."""
    choice = form.get("choice", "").strip()
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=None)
        row = _department(view.departments_by_name, department)
        person = identify(view.plan, actor.subject)
        _require_visit(row, actor)
        done = _already_done(session, purpose, row, person.id, gate, now)
    if done and purpose is not Purpose.operate:
        raise AlreadyUsed(f"{done}; this link has been used and nothing more was recorded")
    by = actor.person
    if purpose is Purpose.acknowledge:
        if choice == "decline":
            raise NotYetAvailable(
                "declining the champion role from the web is not available yet; tell the "
                "program lead (nothing was recorded)"
            )
        result = operator.acknowledge(
            engine=engine, department=department, champion=person.id, by=by, now=now
        )
    elif purpose is Purpose.attest:
        evidence = form.get("evidence", "").strip()
        if not evidence:
            raise Invalid("evidence is required: a link or a sentence saying what was checked")
        result = operator.attest(
            engine=engine, department=department, gate=gate, by=by, evidence=evidence, now=now
        )
    elif purpose is Purpose.decide:
        if choice == "reject":
            raise NotYetAvailable(
                "rejecting from the web is not available yet; nothing was recorded. Tell the "
                "program lead why, or approve when ready"
            )
        result = operator.approve(
            engine=engine,
            department=department,
            gate=gate,
            by=by,
            comment=form.get("comment", "").strip(),
            now=now,
            via=actor.source.value,
        )
    elif purpose is Purpose.operate:
        if choice not in (Event.pause.value, Event.resume.value):
            raise Invalid("choose pause or resume")
        reason = form.get("reason", "").strip()
        if not reason:
            raise Invalid("say why: the reason is recorded in the department's history")
        state = operator.operate(
            engine=engine,
            department=department,
            event=Event(choice),
            by=by,
            reason=reason,
            now=now,
        )
        return f"{row.title} is now {state.status.value}"
    elif purpose is Purpose.barrier:
        raise NotYetAvailable(
            "reporting a barrier from the web is not available yet; nothing was recorded. "
            "Tell your champion or the program lead"
        )
    else:
        raise Missing(f"no action '{purpose.value}'")
    if not result.changed:
        raise AlreadyUsed(f"{result.message}; nothing more was recorded")
    return result.message


def _department(by_name: Mapping[str, Department], name: str) -> Department:
    row = by_name.get(name)
    if row is None:
        raise NotFound("department", name, by_name)
    return row


def _require_visit(row: Department, actor: Actor) -> None:
    if actor.visit and visit_key(row.phase_entered_at) != actor.visit:
        raise MovedOn(
            f"{row.title} has moved on since this link was sent (it is now in '{row.phase}'); "
            "nothing was recorded. A later message carries a current link"
        )


def _already_done(
    session: Session, purpose: Purpose, row: Department, person: str, gate: str, now: datetime
) -> str:
    """Why the action is already taken, from its own rows ('' when it is not): the
    idempotence that stands for single use until link nonces are recorded."""
    ident = row.id or 0
    if purpose is Purpose.acknowledge:
        for c in champions_of(session=session, department_ids=[ident]):
            if c.person == person and c.acknowledged_at is not None:
                return f"{c.name} already acknowledged the champion role for {row.title}"
    elif purpose is Purpose.attest:
        for a in attestations_of(session=session, department_ids=[ident]).get(ident, []):
            current = a.phase == row.phase and a.attested_at >= row.phase_entered_at
            valid = a.expires_at is None or a.expires_at > now
            if a.gate == gate and a.attested_by == person and current and valid:
                return f"'{gate}' was already attested for {row.title} by this person"
    elif purpose is Purpose.decide:
        for p in approvals_of(session=session, department_ids=[ident]).get(ident, []):
            if (
                p.gate == gate
                and p.approver_key == person
                and p.phase_entered_at == row.phase_entered_at
            ):
                return f"'{gate}' was already approved for {row.title} by this person"
    return ""
