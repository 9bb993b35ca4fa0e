"""The plan as the engine uses it: the applied plan plus the active roster.

Everything that names people (entry actions, routing, reminders, the LMS import) reads
`plan.people` and `plan.members(...)`; rather than teach each of them about the roster,
the stored plan is read with the roster's people added: a plan person keeps the plan's
fields and takes the roster's department, segment, `notify`, time zone, quiet hours and
digest day where the plan names none; a roster-only person becomes
a plan person without roles, with the roster's preferences; every person gets their
effective segment (`core.roster.effective_segment`); once a roster is imported, each
department's `headcount` is its count of active people. The plan's own headcounts are
what `apply` and `people import` compare the roster with (`core.roster.headcount_warnings`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from pilotscale.core.roster import effective_segment, role_names
from pilotscale.models import Department, Person, Program
from pilotscale.plan.schema import Person as PlanPerson
from pilotscale.plan.schema import Plan, Segment
from pilotscale.store.roster_rows import active_counts
from pilotscale.store.tables import columns_of, table_of


def with_roster(*, session: Session, program: Program, plan: Plan) -> Plan:
    """`plan` with the active roster's people and headcounts (see the module doc)."""
    roles = role_names(plan)
    roster = _roster_rows(session, program) if program.roster_sha256 is not None else {}
    people: list[PlanPerson] = []
    for person in plan.people:
        row = roster.pop(person.id, None)
        department = person.department or (row["department"] if row else None)
        segment = effective_segment(
            declared=person.segment.value if person.segment else None,
            roster=row["segment"] if row else None,
            roles=roles.get(person.id, ()),
        )
        if department != person.department or segment != person.segment:
            person = dataclasses.replace(person, department=department, segment=Segment(segment))
        if row is not None:
            person = with_preferences(person, row)
        people.append(person)
    people += [roster_person(key, row) for key, row in roster.items() if row["source"] == "roster"]
    update: dict[str, Any] = {"people": people}
    if program.roster_sha256 is not None:
        counts = active_counts(session=session, program_id=program.id or 0)
        update["departments"] = [
            d.model_copy(update={"headcount": counts.get(d.name, 0)}) for d in plan.departments
        ]
    return plan.model_copy(update=update)


PREFERENCES = ("timezone", "quiet_hours", "digest_day")


def with_preferences(person: PlanPerson, row: Mapping[str, Any]) -> PlanPerson:
    """A plan person with the roster's `notify`, time zone, quiet hours and digest day
    where the plan says none (`row`: their roster row)."""
    filled = {c: row[c] for c in PREFERENCES if getattr(person, c) is None and row[c] is not None}
    if person.notify is None and row["roster_notify"] is not None:
        filled["notify"] = row["roster_notify"]
    return dataclasses.replace(person, **filled) if filled else person


def roster_person(key: str, row: Mapping[str, Any]) -> PlanPerson:
    """A person on the roster only, as the engine sees them: no roles, the roster's
    preferences (`row`: their roster row, with their department's name)."""
    return PlanPerson(
        id=key,
        name=row["name"],
        email=row["email"],
        chat=row["chat"],
        department=row["department"],
        segment=Segment(row["segment"]),
        # The roster's own choice: `notify` may still be the plan's, for a person the
        # plan listed until its last apply.
        notify=row["roster_notify"] or row["notify"],
        timezone=row["timezone"],
        quiet_hours=row["quiet_hours"],
        digest_day=row["digest_day"],
    )


def _roster_rows(session: Session, program: Program) -> dict[str, Any]:
    p, d = columns_of(Person), columns_of(Department)
    rows = session.execute(
        select(
            p.key,
            p.name,
            p.email,
            p.chat,
            p.segment,
            p.notify,
            p.roster_notify,
            p.source,
            *(p[c] for c in PREFERENCES),
            d.name.label("department"),
        )
        .select_from(table_of(Person))
        .outerjoin(table_of(Department), d.id == p.department_id)
        .where(p.program_id == program.id, p.in_roster.is_(True), p.removed_at.is_(None))
        .order_by(p.key)
    ).mappings()
    return {row["key"]: row for row in rows}
