"""Who a gate owner or a department role is: plan tokens resolved to person ids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pilotscale.plan.schema import Department, Plan

if TYPE_CHECKING:
    from pilotscale.core.gates import AnyGate

SUPPORT_AREAS = ("technical", "adoption", "content", "governance")
DEPARTMENT_ROLES = ("sponsor", "lead", *(f"support.{area}" for area in SUPPORT_AREAS))


def resolve_owner(plan: Plan, department: Department, owner: str) -> str | None:
    """The person id behind `owner`: a person id as written, or a department role.

    None when the role is vacant (e.g. no content owner named yet); the caller then
    falls back to the program lead, so a held gate always reaches somebody.
    """
    if owner == "sponsor":
        return department.sponsor
    if owner == "lead":
        return plan.program.lead
    if owner.startswith("support."):
        area = owner.removeprefix("support.")
        return getattr(department.support, area, None) if area in SUPPORT_AREAS else None
    return owner


def sponsor_or_lead(plan: Plan, department: Department) -> str:
    """Who hears what a department's sponsor would: its sponsor, or the program lead when
    it has none (only a plan applied with --allow-incomplete has a department without)."""
    return department.sponsor or plan.program.lead


def owner_or_lead(plan: Plan, department: Department, owner: str) -> str:
    return resolve_owner(plan, department, owner) or plan.program.lead


def gate_owner(plan: Plan, department: Department, gate: str) -> str:
    """The person who owns `gate` in `department`. Implicit gates (a phase's min_soak)
    and vacant roles fall back to the program lead."""
    spec = plan.gates_by_name.get(gate)
    return owner_or_lead(plan, department, spec.owner) if spec else plan.program.lead


def gate_owners(
    plan: Plan, department: str, gates: Iterable[AnyGate] | None = None
) -> dict[str, str]:
    """Gate name -> the person id of its owner in this department, for `gates` (default:
    every gate of the plan). A reader of thousands of departments asks for each one's
    phase gates only."""
    spec = plan.department(department)
    chosen = plan.gates if gates is None else gates
    return {g.name: owner_or_lead(plan, spec, g.owner) for g in chosen}


def owner_names(plan: Plan, department: str) -> dict[str, str]:
    """Gate name -> the display name of the person who owns it in this department, for
    every gate of the plan (what a gate's sentence names its owner by)."""
    return {gate: plan.person(owner).name for gate, owner in gate_owners(plan, department).items()}
