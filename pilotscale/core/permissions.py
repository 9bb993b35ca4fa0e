"""Who may do what: the plan is the only source of authority.

The open-source Prefect server has no user identity, so pilotscale never trusts a
name typed into a UI field on its own: every manual action names a person of the
plan (`--by EMAIL`), is checked here, and is recorded with that person and the
operating-system user who ran it.
"""

from __future__ import annotations

from pilotscale.core.recipients import gate_owner
from pilotscale.plan.schema import ApprovalGate, Person, Plan, Role
from pilotscale.refusal import Forbidden

# Operator controls and who may use them, besides the program lead and anyone with
# the `lead` role (who may use all of them).
SPONSOR_MAY = frozenset({"pause", "resume"})
OPERATOR_ACTIONS = ("start", "pause", "resume", "abort", "rollback", "check", "rollout")


class NotAllowed(Forbidden):
    """The person may not do this; the message says who may."""


def identify(plan: Plan, who: str) -> Person:
    """The plan's person for an email address or a person id (case-insensitive email)."""
    wanted = who.strip().lower()
    for person in plan.people:
        if person.email.lower() == wanted or person.id == who.strip():
            return person
    raise NotAllowed(f"'{who}' is not a person in the plan; use the email address the plan lists")


def _leads(plan: Plan) -> list[Person]:
    return [p for p in plan.people if p.id == plan.program.lead or Role.lead in p.roles]


def is_lead(plan: Plan, person: Person) -> bool:
    """The program lead or anyone with the `lead` role."""
    return person.id == plan.program.lead or Role.lead in person.roles


def may_operate(plan: Plan, who: str, action: str, department: str) -> Person:
    person = identify(plan, who)
    allow_operate(plan, person, action, department)
    return person


def allow_operate(plan: Plan, person: Person, action: str, department: str) -> None:
    """Leads may use every operator control; a department's sponsor may pause and resume it."""
    if is_lead(plan, person):
        return
    sponsor = plan.department(department).sponsor
    if action in SPONSOR_MAY and sponsor is not None and sponsor == person.id:
        return
    allowed = ", ".join(p.email for p in _leads(plan))
    extra = f" or the department's sponsor ({sponsor})" if action in SPONSOR_MAY and sponsor else ""
    raise NotAllowed(f"{person.email} may not {action} '{department}': only {allowed}{extra}")


def may_roll_out(plan: Plan, who: str) -> Person:
    """Rolling the program out (starting every department whose wave may start) is a
    lead's: the program lead or anyone with the `lead` role."""
    person = identify(plan, who)
    if is_lead(plan, person):
        return person
    raise NotAllowed(f"{person.email} may not roll out the program: only a lead may")


def allow_lead(plan: Plan, person: Person, what: str) -> None:
    """What only a lead may do: pause or resume the whole program, waive a gate."""
    if is_lead(plan, person):
        return
    allowed = ", ".join(p.email for p in _leads(plan))
    raise NotAllowed(f"{person.email} may not {what}: only a lead may ({allowed})")


def allow_decide(plan: Plan, person: Person, gate_name: str) -> ApprovalGate:
    """Approving and rejecting an approval gate: its listed approvers only, each for
    themself (an operator enters it for them with --on-behalf-of, see core.duties)."""
    gate = next((g for g in plan.gates if g.name == gate_name), None)
    if not isinstance(gate, ApprovalGate):
        raise NotAllowed(f"'{gate_name}' is not an approval gate of the plan")
    if person.id not in gate.approvers:
        names = ", ".join(plan.person(a).email for a in gate.approvers)
        raise NotAllowed(f"{person.email} is not an approver of '{gate_name}' (approvers: {names})")
    return gate


def allow_attest(plan: Plan, person: Person, gate_name: str, department: str) -> None:
    """Attesting: the gate's owner in the department only (a vacant role's gate is the
    program lead's). A lead enters it for the owner only on their behalf, with a reason."""
    owner = gate_owner(plan, plan.department(department), gate_name)
    if person.id == owner:
        return
    email = plan.person(owner).email
    raise NotAllowed(
        f"{person.email} may not attest '{gate_name}' for '{department}': its owner is "
        f"{email} (a lead may enter it for them: --on-behalf-of {email} --reason TEXT)"
    )


def allow_acknowledge(plan: Plan, person: Person, champion: str, department: str) -> None:
    """Acknowledging or declining the champion role: the champion only."""
    if person.id == champion:
        return
    email = plan.person(champion).email
    raise NotAllowed(
        f"{person.email} may not acknowledge or decline for {champion}: only the champion "
        f"may (a lead may enter their answer: --on-behalf-of {email} --reason TEXT)"
    )


def allow_report_barrier(plan: Plan, person: Person, department: str) -> None:
    """Anyone in the department reports a barrier: its members, sponsor, champions and
    support owners, and the leads."""
    spec = plan.department(department)
    insiders = {
        spec.sponsor,
        *spec.champions,
        *(o for o in spec.support.model_dump().values() if o),
    }
    if person.department == department or person.id in insiders or is_lead(plan, person):
        return
    raise NotAllowed(
        f"{person.email} is not in '{department}': barriers are reported by its people, "
        "its sponsor, champions and support owners, or a lead"
    )


def allow_note(plan: Plan, person: Person, department: str) -> None:
    """Lessons learned come from those who lived the rollout: the department's people, its
    sponsor, champions and support owners, and the leads."""
    spec = plan.department(department)
    insiders = {
        spec.sponsor,
        *spec.champions,
        *(o for o in spec.support.model_dump().values() if o),
    }
    if person.department == department or person.id in insiders or is_lead(plan, person):
        return
    raise NotAllowed(
        f"{person.email} is not in '{department}': notes are written by its people, its "
        "sponsor, champions and support owners, or a lead"
    )
