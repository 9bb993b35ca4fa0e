"""Every call from the web app to an engine action, in one place.

The actor (`core.actors.Actor`: the person, how we know it is them, the link's nonce
and visit) is built here; the engine decides whether they may act and records the
link's single use with the action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.actors import Actor, Source
from pilotscale.core.duties import require_current_visit
from pilotscale.core.permissions import identify
from pilotscale.core.phases import Event
from pilotscale.engine import operator
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.links import Link, Purpose
from pilotscale.models import Department
from pilotscale.refusal import Conflict, Invalid, Missing
from pilotscale.store.link_use import used_at
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import load_view

ACTIONS = (Purpose.acknowledge, Purpose.attest, Purpose.decide, Purpose.operate, Purpose.barrier)


class AlreadyUsed(Conflict):
    """The link's action was already taken (the link is used up)."""


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
        require_current_visit(
            actor,
            department_title=row.title,
            phase=row.phase,
            phase_entered_at=row.phase_entered_at,
        )
        verdict = read_verdicts(session=session, view=view, now=now, names=[department]).get(
            department
        )
        found = next((g for g in verdict.gates if g.gate == gate), None) if verdict else None
        spec = view.plan.gates_by_name.get(gate)
        done = _already_done(session, actor)
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
    """Take the action; its one-sentence result, or a refusal with nothing recorded.

    The engine checks everything that makes it allowed (the person's own gate, no
    self-approval, the link's visit) and records the link's nonce in the action's own
    transaction, so a used link is refused there, whoever replays it.
    """
    choice = form.get("choice", "").strip()
    text = {k: form.get(k, "").strip() for k in ("comment", "evidence", "reason", "text", "area")}
    if purpose is Purpose.acknowledge:
        if choice == "decline":
            result = operator.decline(
                engine=engine, department=department, actor=actor, reason=text["reason"], now=now
            )
        else:
            result = operator.acknowledge(
                engine=engine, department=department, actor=actor, now=now
            )
    elif purpose is Purpose.attest:
        if not text["evidence"]:
            raise Invalid("evidence is required: a link or a sentence saying what was checked")
        result = operator.attest(
            engine=engine,
            department=department,
            gate=gate,
            actor=actor,
            evidence=text["evidence"],
            now=now,
        )
    elif purpose is Purpose.decide:
        decide = operator.reject if choice == "reject" else operator.approve
        result = decide(
            engine=engine,
            department=department,
            gate=gate,
            actor=actor,
            comment=text["comment"],
            now=now,
        )
    elif purpose is Purpose.operate:
        if choice not in (Event.pause.value, Event.resume.value):
            raise Invalid("choose pause or resume")
        if not text["reason"]:
            raise Invalid("say why: the reason is recorded in the department's history")
        state = operator.operate(
            engine=engine,
            department=department,
            event=Event(choice),
            actor=actor,
            reason=text["reason"],
            now=now,
        )
        return f"{department} is now {state.status.value}"
    elif purpose is Purpose.barrier:
        result = operator.report_barrier(
            engine=engine,
            department=department,
            actor=actor,
            text=text["text"],
            area=text["area"],
            now=now,
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


def _already_done(session: Session, actor: Actor) -> str:
    """'' unless the actor's link was used already (the page then says so up front)."""
    if not actor.link_nonce:
        return ""
    when = used_at(session=session, nonce=actor.link_nonce)
    if when is None:
        return ""
    return f"this link was used on {when:%Y-%m-%d %H:%M} UTC"
