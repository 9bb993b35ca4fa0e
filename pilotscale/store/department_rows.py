"""The rows a department page and a person's to-do list show: champions, approvals and
attestations, read in bulk (one query per kind, for any number of departments)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from pilotscale.models import Approval, Attestation, ChampionOnboarding, Person
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of


@dataclass(frozen=True)
class ChampionRow:
    department_id: int
    person: str  # the plan's person id
    name: str
    welcomed_at: datetime | None
    acknowledged_at: datetime | None
    declined_at: datetime | None = None
    decline_reason: str = ""


def champions_of(*, session: Session, department_ids: Sequence[int]) -> list[ChampionRow]:
    """Every onboarded champion of the departments, by department then name."""
    if not department_ids:
        return []
    c, p = columns_of(ChampionOnboarding), columns_of(Person)
    rows = session.execute(
        sa_select(
            c.department_id,
            p.key,
            p.name,
            c.welcomed_at,
            c.acknowledged_at,
            c.declined_at,
            c.decline_reason,
        )
        .join(Person, p.id == c.person_id)
        .where(id_in(session, c.department_id, department_ids))
        .order_by(c.department_id, p.name)
    ).all()
    return [ChampionRow(*row) for row in rows]


def unacknowledged_by(*, session: Session, program_id: int, person: str) -> list[int]:
    """The departments where `person` (plan id) is an onboarded champion not yet acknowledged."""
    c, p = ChampionOnboarding, Person
    return list(
        session.exec(
            select(c.department_id)
            .join(p, col(p.id) == col(c.person_id))
            .where(
                col(p.program_id) == program_id,
                col(p.key) == person,
                col(c.acknowledged_at).is_(None),
            )
        ).all()
    )


def approvals_of(*, session: Session, department_ids: Sequence[int]) -> dict[int, list[Approval]]:
    """Every approval of the departments, oldest first, by department id."""
    out: dict[int, list[Approval]] = defaultdict(list)
    if not department_ids:
        return out
    rows = session.exec(
        select(Approval)
        .where(id_in(session, col(Approval.department_id), department_ids))
        .order_by(col(Approval.approved_at), col(Approval.id))
    )
    for row in rows:
        out[row.department_id].append(row)
    return out


def attestations_of(
    *, session: Session, department_ids: Sequence[int]
) -> dict[int, list[Attestation]]:
    """Every attestation of the departments, oldest first, by department id."""
    out: dict[int, list[Attestation]] = defaultdict(list)
    if not department_ids:
        return out
    rows = session.exec(
        select(Attestation)
        .where(id_in(session, col(Attestation.department_id), department_ids))
        .order_by(col(Attestation.attested_at), col(Attestation.id))
    )
    for row in rows:
        out[row.department_id].append(row)
    return out
