"""The people's side of many departments at once, for the views: each approver's latest
decision, the attestations and champions' answers with who entered them and how, and
open barriers. One query per kind for all departments, like store.fact_queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from pilotscale.models import (
    Approval,
    Attestation,
    Barrier,
    ChampionOnboarding,
    Department,
    Note,
    Person,
)
from pilotscale.store.fact_queries import DepartmentRef
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of, table_of


@dataclass(frozen=True)
class Entered:
    """How a recorded action's person is known (a core.actors.Source value, '' when not
    recorded) and, when an operator entered it for them, who (`acted_by`) and why."""

    source: str = ""
    acted_by: str = ""
    reason: str = ""
    os_user: str = ""

    @property
    def on_behalf(self) -> bool:
        return bool(self.acted_by)


@dataclass(frozen=True)
class DecisionRow:
    gate: str
    approver: str  # person id
    decision: str  # 'approve' or 'reject'
    comment: str
    at: datetime
    entered: Entered


@dataclass(frozen=True)
class AttestationRow:
    gate: str
    by: str  # person id of the gate's owner who attested
    evidence: str
    at: datetime
    expires_at: datetime | None
    entered: Entered


@dataclass(frozen=True)
class ChampionAnswer:
    champion: str  # person id
    acknowledged_at: datetime | None
    declined_at: datetime | None
    decline_reason: str
    entered: Entered


@dataclass(frozen=True)
class BarrierRow:
    id: int
    phase: str
    reported_by: str  # person id
    area: str
    text: str
    at: datetime
    entered: Entered


@dataclass(frozen=True)
class NoteRow:
    id: int
    phase: str
    written_by: str  # person id
    text: str
    at: datetime
    entered: Entered


@dataclass(frozen=True)
class PeopleSide:
    """One department's current visit as people made it: every approver's latest decision
    (by gate), the latest attestation of each gate, each champion's answer, and the open
    barriers (of any visit: a barrier stays until resolved)."""

    decisions: tuple[DecisionRow, ...] = ()
    attestations: tuple[AttestationRow, ...] = ()
    champions: tuple[ChampionAnswer, ...] = ()
    barriers: tuple[BarrierRow, ...] = ()
    notes: tuple[NoteRow, ...] = ()  # lessons learned, of every visit, oldest first

    @property
    def rejections(self) -> tuple[DecisionRow, ...]:
        return tuple(d for d in self.decisions if d.decision == "reject")


# What `load_people_side` can read, each in one query: the PeopleSide fields.
PEOPLE_KINDS = ("decisions", "attestations", "champions", "barriers", "notes")


def load_people_side(
    *,
    session: Session,
    departments: Sequence[DepartmentRef],
    now: datetime,
    kinds: Collection[str] = PEOPLE_KINDS,
) -> dict[str, PeopleSide]:
    """By department name; nothing recorded after `now` counts. `kinds` (of PEOPLE_KINDS)
    are read; the others are left empty, for a view that shows only some."""
    if not departments:
        return {}
    ids = [d.id for d in departments]
    readers: dict[str, Callable[[Session, list[int], datetime], Mapping[int, Sequence[Any]]]] = {
        "decisions": _decisions,
        "attestations": _attestations,
        "champions": _champions,
        "barriers": _barriers,
        "notes": _notes,
    }
    found: dict[str, Mapping[int, Sequence[Any]]] = {
        kind: read(session, ids, now) if kind in kinds else {} for kind, read in readers.items()
    }
    return {
        d.name: PeopleSide(**{kind: tuple(rows.get(d.id, ())) for kind, rows in found.items()})
        for d in departments
    }


def notes_by_department(
    *, session: Session, department_ids: Sequence[int], now: datetime
) -> dict[int, list[NoteRow]]:
    """The lessons learned of each department (by id), of every visit, oldest first: one
    read for the departments whose success story is told, without the rest of their side."""
    return _notes(session, list(department_ids), now) if department_ids else {}


def _decisions(session: Session, ids: list[int], now: datetime) -> dict[int, list[DecisionRow]]:
    a, d = columns_of(Approval), columns_of(Department)
    rows = session.execute(
        select(
            a.department_id,
            a.gate,
            a.approver_key,
            a.decision,
            a.comment,
            a.approved_at,
            a.identity_source,
            a.acted_by,
            a.on_behalf_reason,
            a.os_user,
        )
        .join(table_of(Department), d.id == a.department_id)
        .where(
            id_in(session, a.department_id, ids),
            a.phase == d.phase,
            a.phase_entered_at == d.phase_entered_at,
            a.approved_at <= now,
        )
        .order_by(a.approved_at, a.id)
    ).all()
    # Later rows replace earlier ones: each approver's latest decision per gate.
    latest: dict[int, dict[tuple[str, str], DecisionRow]] = defaultdict(dict)
    for dept, gate, who, decision, comment, at, source, by, reason, os_user in rows:
        latest[dept].pop((gate, who), None)
        latest[dept][(gate, who)] = DecisionRow(
            gate, who, decision, comment, at, Entered(source, by, reason, os_user)
        )
    return {dept: list(found.values()) for dept, found in latest.items()}


def _attestations(
    session: Session, ids: list[int], now: datetime
) -> dict[int, list[AttestationRow]]:
    a, d = columns_of(Attestation), columns_of(Department)
    rows = session.execute(
        select(
            a.department_id,
            a.gate,
            a.attested_by,
            a.evidence,
            a.attested_at,
            a.expires_at,
            a.identity_source,
            a.acted_by,
            a.on_behalf_reason,
            a.os_user,
        )
        .join(table_of(Department), d.id == a.department_id)
        .where(
            id_in(session, a.department_id, ids),
            a.phase == d.phase,
            a.attested_at >= d.phase_entered_at,
            a.attested_at <= now,
        )
        .order_by(a.attested_at, a.id)
    ).all()
    latest: dict[int, dict[str, AttestationRow]] = defaultdict(dict)
    for dept, gate, by, evidence, at, expires, source, acted, reason, os_user in rows:
        latest[dept][gate] = AttestationRow(
            gate, by, evidence, at, expires, Entered(source, acted, reason, os_user)
        )
    return {dept: list(found.values()) for dept, found in latest.items()}


def _champions(session: Session, ids: list[int], now: datetime) -> dict[int, list[ChampionAnswer]]:
    c, p = columns_of(ChampionOnboarding), columns_of(Person)
    rows = session.execute(
        select(
            c.department_id,
            p.key,
            c.acknowledged_at,
            c.declined_at,
            c.decline_reason,
            c.identity_source,
            c.acted_by,
            c.on_behalf_reason,
            c.os_user,
        )
        .join(table_of(Person), p.id == c.person_id)
        .where(id_in(session, c.department_id, ids))
        .order_by(c.department_id, p.key)
    ).all()
    out: dict[int, list[ChampionAnswer]] = defaultdict(list)
    for dept, key, acked, declined, why, source, acted, reason, os_user in rows:
        acked = acked if acked is not None and acked <= now else None
        declined = declined if declined is not None and declined <= now else None
        entered = Entered(source, acted, reason, os_user) if acked or declined else Entered()
        out[dept].append(ChampionAnswer(key, acked, declined, why if declined else "", entered))
    return out


def _barriers(session: Session, ids: list[int], now: datetime) -> dict[int, list[BarrierRow]]:
    b = columns_of(Barrier)
    rows = session.execute(
        select(
            b.department_id,
            b.id,
            b.phase,
            b.reported_by,
            b.area,
            b.text,
            b.reported_at,
            b.identity_source,
            b.acted_by,
            b.on_behalf_reason,
            b.os_user,
        )
        .where(
            id_in(session, b.department_id, ids),
            b.reported_at <= now,
            (b.resolved_at.is_(None)) | (b.resolved_at > now),
        )
        .order_by(b.reported_at, b.id)
    ).all()
    out: dict[int, list[BarrierRow]] = defaultdict(list)
    for dept, id_, phase, who, area, said, at, source, acted, reason, os_user in rows:
        out[dept].append(
            BarrierRow(id_, phase, who, area, said, at, Entered(source, acted, reason, os_user))
        )
    return out


def _notes(session: Session, ids: list[int], now: datetime) -> dict[int, list[NoteRow]]:
    n = columns_of(Note)
    rows = session.execute(
        select(
            n.department_id,
            n.id,
            n.phase,
            n.written_by,
            n.text,
            n.written_at,
            n.identity_source,
            n.acted_by,
            n.on_behalf_reason,
            n.os_user,
        )
        .where(id_in(session, n.department_id, ids), n.written_at <= now)
        .order_by(n.written_at, n.id)
    ).all()
    out: dict[int, list[NoteRow]] = defaultdict(list)
    for dept, id_, phase, who, said, at, source, acted, reason, os_user in rows:
        out[dept].append(
            NoteRow(id_, phase, who, said, at, Entered(source, acted, reason, os_user))
        )
    return out
