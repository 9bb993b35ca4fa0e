"""The roster's rules, pure: who is a trainee, who counts, and when the plan's headcount is
off. The store counts rows; these functions decide what the counts mean.

A department's people are the plan's people of that department plus the active people
of the imported roster (a person in both is one person). Everyone active counts in the
department's headcount; only people of a trainee segment (power, casual) count in a
training denominator. A person without a segment anywhere is `none` (not a trainee)
when they are a sponsor, lead, support owner or executive, and `casual` otherwise, the
way plans were read before there was a roster.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from pilotscale.plan.problems import PathKey
from pilotscale.plan.schema import ApprovalGate, Plan

NOT_TRAINEE = "none"
TRAINEE_SEGMENTS: tuple[str, ...] = ("power", "casual")
ROSTER_SEGMENTS: tuple[str, ...] = (*TRAINEE_SEGMENTS, NOT_TRAINEE)
# Roles whose holders are not trainees unless their segment says so.
NON_TRAINEE_ROLES = frozenset({"sponsor", "lead", "support_owner", "executive"})
# Beyond this share of the plan's headcount, the roster and the plan disagree.
HEADCOUNT_TOLERANCE = 0.10


def effective_segment(*, declared: str | None, roster: str | None, roles: Iterable[str]) -> str:
    """The segment a person trains in: the plan's, else the roster's, else by role."""
    if declared:
        return declared
    if roster:
        return roster
    return NOT_TRAINEE if NON_TRAINEE_ROLES & set(roles) else "casual"


def is_trainee(segment: str) -> bool:
    return segment in TRAINEE_SEGMENTS


def headcount(*, planned: int, active: int | None) -> int:
    """A department's headcount: its active people once a roster is imported (`active`
    not None), the plan's number before, so plans without a roster work as they did."""
    return planned if active is None else active


def headcount_drift(*, planned: int, active: int) -> str | None:
    """Why the plan's headcount disagrees with the roster, or None within 10 %."""
    if abs(planned - active) <= HEADCOUNT_TOLERANCE * planned:
        return None
    noun = "person" if active == 1 else "people"
    return f"headcount {planned} but the roster has {active} active {noun}"


def headcount_warnings(plan: Plan, active: Mapping[str, int]) -> list[tuple[PathKey, str]]:
    """One located warning per department whose headcount is off by more than 10 %."""
    found: list[tuple[PathKey, str]] = []
    for index, dept in enumerate(plan.departments):
        why = headcount_drift(planned=dept.headcount, active=active.get(dept.name, 0))
        if why:
            path: PathKey = ("departments", index, "headcount")
            found.append((path, f"departments[{dept.name}].{why}"))
    return found


def role_names(plan: Plan) -> dict[str, set[str]]:
    """Every role the plan gives each person id: declared ones, and those of the program,
    departments (sponsor, champions, support owners) and approval gates. A person with
    none is not a key: most of a 100,000-person plan has none, and a set each cost
    0.2 s of a one-department `explain`."""
    # Role is a StrEnum: str() is its value, without the enum's slower `.value`.
    roles: dict[str, set[str]] = {p.id: set(map(str, p.roles)) for p in plan.people if p.roles}

    def add(person: str | None, role: str) -> None:
        if person:
            roles.setdefault(person, set()).add(role)

    add(plan.program.sponsor, "sponsor")
    add(plan.program.lead, "lead")
    for dept in plan.departments:
        add(dept.sponsor, "sponsor")
        for champion in dept.champions:
            add(champion, "champion")
        for owner in dept.support.model_dump().values():
            add(owner, "support_owner")
    for gate in plan.gates:
        if isinstance(gate, ApprovalGate):
            for approver in gate.approvers:
                add(approver, "approver")
    return roles


@dataclass(frozen=True)
class Reference:
    path: PathKey
    what: str
    person: str


def roster_references(plan: Plan) -> list[Reference]:
    """The references a plan may make to people it does not list (they come from the
    roster): department champions, support owners and approvers."""
    found: list[Reference] = []
    for d, dept in enumerate(plan.departments):
        for c, champion in enumerate(dept.champions):
            found.append(Reference(("departments", d, "champions", c), "champion", champion))
        for area, owner in dept.support.model_dump().items():
            if owner:
                path: PathKey = ("departments", d, "support", area)
                found.append(Reference(path, f"{area} support owner", owner))
    for g, gate in enumerate(plan.gates):
        if isinstance(gate, ApprovalGate):
            for a, approver in enumerate(gate.approvers):
                found.append(Reference(("gates", g, "approvers", a), "approver", approver))
    return found


def unknown_references(plan: Plan, roster: Collection[str]) -> list[tuple[PathKey, str]]:
    """References to a person neither under the plan's people nor on the active roster."""
    listed = {p.id for p in plan.people}
    return [
        (
            ref.path,
            f"{ref.what} '{ref.person}' is neither under people nor on the active roster: "
            "add the person to the plan, or import a roster that lists them "
            "(pilotscale people import FILE)",
        )
        for ref in roster_references(plan)
        if ref.person not in listed and ref.person not in roster
    ]


__all__ = [
    "HEADCOUNT_TOLERANCE",
    "NON_TRAINEE_ROLES",
    "NOT_TRAINEE",
    "ROSTER_SEGMENTS",
    "TRAINEE_SEGMENTS",
    "Reference",
    "effective_segment",
    "headcount",
    "headcount_drift",
    "headcount_warnings",
    "is_trainee",
    "role_names",
    "roster_references",
    "unknown_references",
]
