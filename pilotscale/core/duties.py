"""Separation of duties: a person acts for themself; an operator acting for someone else
says so, with a reason; an approver does not approve what they requested or attested.

Pure rules on the plan and an `Actor` (pilotscale.core.actors). Which action a person
may take for themself is pilotscale.core.permissions' question; here is whether the actor
may take it *as* that person, and what is recorded about how.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pilotscale.core.actors import Actor, Source
from pilotscale.core.permissions import NotAllowed, identify, is_lead
from pilotscale.links import visit_key
from pilotscale.plan.schema import ApprovalGate, Person, Plan
from pilotscale.refusal import Conflict, Invalid


class ReasonRequired(Invalid):
    """A reason, comment or text the action needs is missing."""


class OutOfDate(Conflict):
    """The link was for an earlier visit of the department: it has moved on since."""


class SelfApproval(NotAllowed):
    """An approver may not approve a visit they requested or gave evidence in."""


@dataclass(frozen=True)
class Acting:
    """Who acts, as the plan knows them: `subject` is whose action it is, `person` who
    entered it (the same person unless an operator acted on the subject's behalf)."""

    person: Person
    subject: Person
    source: Source
    reason: str = ""  # why an operator acted on behalf ('' otherwise)

    @property
    def on_behalf(self) -> bool:
        return self.person.id != self.subject.id

    @property
    def acted_by(self) -> str:
        """What is recorded as `acted_by`: the operator's id when on behalf, else ''."""
        return self.person.id if self.on_behalf else ""

    @property
    def identity_source(self) -> str:
        return Source.on_behalf.value if self.on_behalf else self.source.value


def acting(plan: Plan, actor: Actor) -> Acting:
    """The plan's people behind `actor`. Acting on someone's behalf needs a reason and a
    lead (the program lead or anyone with the `lead` role); naming oneself is acting for
    oneself."""
    person = identify(plan, actor.person)
    if actor.on_behalf_of is None:
        return Acting(person=person, subject=person, source=actor.source)
    subject = identify(plan, actor.on_behalf_of)
    if subject.id == person.id:
        return Acting(person=person, subject=person, source=actor.source)
    if not actor.reason.strip():
        raise ReasonRequired(
            f"say why you act for {subject.email}: --reason TEXT is recorded and shown "
            "with the action (e.g. 'confirmed by phone')"
        )
    if not is_lead(plan, person):
        raise NotAllowed(
            f"{person.email} may not act on behalf of {subject.email}: only a lead may, "
            f"and {subject.email} may act for themself"
        )
    return Acting(person=person, subject=subject, source=actor.source, reason=actor.reason.strip())


def require_current_visit(
    actor: Actor, *, department_title: str, phase: str, phase_entered_at: datetime
) -> None:
    """A signed link names the visit it was sent for; once the department has moved on
    (advanced, rolled back, re-entered) the link is out of date and nothing is recorded."""
    if actor.visit is None or actor.visit == visit_key(phase_entered_at):
        return
    raise OutOfDate(
        f"this link was for an earlier stage of {department_title}; it is now in {phase}: "
        "nothing was recorded"
    )


def require_text(value: str, *, what: str) -> str:
    """`value` stripped, or ReasonRequired saying `what` is needed."""
    if not value.strip():
        raise ReasonRequired(what)
    return value.strip()


def forbid_self_approval(
    plan: Plan,
    approver: Person,
    *,
    gate: ApprovalGate,
    department: str,
    requested_by: Iterable[str],
    attested_by: Iterable[str],
) -> None:
    """GitHub's prevent-self-review: who requested the visit (entered the department into
    its phase) or attested any of its gates may not also approve it. Rejecting stays
    allowed: holding one's own request back is no conflict of interest."""
    if approver.id in set(requested_by):
        why = "you moved it into this phase"
    elif approver.id in set(attested_by):
        why = "you attested a gate of this phase"
    else:
        return
    others = [plan.person(a).email for a in gate.approvers if a != approver.id]
    ask = f"ask another approver ({', '.join(others)})" if others else "ask the program lead"
    raise SelfApproval(
        f"{approver.email} may not approve '{gate.name}' for '{department}': {why}; {ask}"
    )
