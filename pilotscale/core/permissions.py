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


def may_operate(plan: Plan, who: str, action: str, department: str) -> Person:
    person = identify(plan, who)
    if person in _leads(plan):
        return person
    if action in SPONSOR_MAY and plan.department(department).sponsor == person.id:
        return person
    allowed = ", ".join(p.email for p in _leads(plan))
    extra = (
        f" or the department's sponsor ({plan.department(department).sponsor})"
        if (action in SPONSOR_MAY)
        else ""
    )
    raise NotAllowed(f"{person.email} may not {action} '{department}': only {allowed}{extra}")


def may_roll_out(plan: Plan, who: str) -> Person:
    """Rolling the program out (starting every department whose wave may start) is a
    lead's: the program lead or anyone with the `lead` role."""
    person = identify(plan, who)
    if person in _leads(plan):
        return person
    raise NotAllowed(f"{person.email} may not roll out the program: only a lead may")


def may_approve(plan: Plan, who: str, gate_name: str) -> Person:
    person = identify(plan, who)
    gate = next((g for g in plan.gates if g.name == gate_name), None)
    if not isinstance(gate, ApprovalGate):
        raise NotAllowed(f"'{gate_name}' is not an approval gate of the plan")
    if person.id not in gate.approvers:
        names = ", ".join(plan.person(a).email for a in gate.approvers)
        raise NotAllowed(f"{person.email} is not an approver of '{gate_name}' (approvers: {names})")
    return person


def may_attest(plan: Plan, who: str, gate_name: str, department: str) -> Person:
    person = identify(plan, who)
    owner = gate_owner(plan, plan.department(department), gate_name)
    if person.id == owner or person in _leads(plan):
        return person
    raise NotAllowed(
        f"{person.email} may not attest '{gate_name}' for '{department}': its owner is "
        f"{plan.person(owner).email} (the program lead may attest too)"
    )


def may_acknowledge(plan: Plan, who: str, champion: str, department: str) -> Person:
    person = identify(plan, who)
    if person.id == champion or person in _leads(plan):
        return person
    raise NotAllowed(
        f"{person.email} may not acknowledge for {champion}: only the champion or a lead"
    )
