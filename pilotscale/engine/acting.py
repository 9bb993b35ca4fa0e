"""What every action a person takes shares: the department it is on, who acts and how we
know, whether a signed link is still for this visit, and the link's single use.

The actions themselves live in engine/operator.py (controls, attestations, training),
engine/approvals.py, engine/champions.py and engine/barriers.py; each is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from pilotscale.core.actors import Actor, Source
from pilotscale.core.decisions import gates_for
from pilotscale.core.duties import Acting, acting, require_current_visit
from pilotscale.core.gates import AnyGate
from pilotscale.links import Purpose
from pilotscale.models import Department
from pilotscale.refusal import Conflict
from pilotscale.store.identity import os_user
from pilotscale.store.link_use import claim_link
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import ProgramView, load_view


class Refused(Conflict):
    """The action cannot be taken; the message is one sentence saying why and what to do."""


class LinkUsed(Conflict):
    """The signed link was used already: a link acts once."""


@dataclass(frozen=True)
class Done:
    department: str
    message: str
    changed: bool = True


def cli_actor(person: str, *, on_behalf_of: str | None = None, reason: str = "") -> Actor:
    """The actor of a CLI command: `--by` as asserted by the OS user running it."""
    return Actor(
        person=person,
        source=Source.cli,
        os_user=os_user(),
        on_behalf_of=on_behalf_of,
        reason=reason,
    )


def recorded_os_user(actor: Actor) -> str:
    """At the CLI the OS user is read here, never taken from the caller; a web request
    passes whatever it knows (the proxy's user, say) in `Actor.os_user`."""
    return os_user() if actor.source is Source.cli else actor.os_user


def view_and_row(
    session: Session, program: str | None, department: str
) -> tuple[ProgramView, Department]:
    view = load_view(session=session, program=program)
    row = next((d for d in view.departments if d.name == department), None)
    if row is None:
        raise NotFound("department", department, [d.name for d in view.departments])
    return view, row


def begin(view: ProgramView, row: Department, actor: Actor) -> Acting:
    """Who acts on `row`, once the link (if any) is for the department's current visit."""
    require_current_visit(
        actor, department_title=row.title, phase=row.phase, phase_entered_at=row.phase_entered_at
    )
    return acting(view.plan, actor)


def use_link(
    session: Session,
    actor: Actor,
    *,
    purpose: Purpose,
    person: str,
    department_id: int | None,
    now: datetime,
) -> None:
    """Record a signed link's use in the action's transaction; a second use is refused
    (and the transaction, with whatever it recorded, rolled back)."""
    if actor.link_nonce is None:
        return
    used = claim_link(
        session=session,
        nonce=actor.link_nonce,
        purpose=purpose.value,
        person_key=person,
        department_id=department_id,
        now=now,
    )
    if used is not None:
        raise LinkUsed(f"this link was already used on {used:%Y-%m-%d}: nothing was recorded")


def on_behalf_note(act: Acting) -> str:
    """' — entered by NAME on behalf: 'REASON'' when an operator acted, else ''."""
    if not act.on_behalf:
        return ""
    return f" — entered by {act.person.name} on behalf: '{act.reason}'"


def require_current_gate(view: ProgramView, row: Department, gate: str) -> AnyGate:
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
