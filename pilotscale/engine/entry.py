"""Entering a phase: onboard champions, assign training, announce — records and messages
written in the caller's transaction, so a crash leaves either all of it or none."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from pilotscale.core.messages import EntryWork, Message, entry_work
from pilotscale.engine.enqueue import enqueue
from pilotscale.engine.story_facts import story_facts
from pilotscale.models import ChampionOnboarding, Department, Person, TrainingAssignment
from pilotscale.plan.schema import EntryAction, Plan
from pilotscale.store.insert import insert_ignore


def person_ids(*, session: Session, program_id: int) -> dict[str, int]:
    rows = session.exec(
        select(Person.key, Person.id).where(col(Person.program_id) == program_id)
    ).all()
    return {key: pid for key, pid in rows if pid is not None}


def department_ids(*, session: Session, program_id: int) -> dict[str, int]:
    rows = session.exec(
        select(Department.name, Department.id).where(col(Department.program_id) == program_id)
    ).all()
    return {name: did for name, did in rows if did is not None}


def enter_phase(
    *,
    session: Session,
    plan: Plan,
    program_id: int,
    department: Department,
    phase: str,
    previous_phase: str | None,
    now: datetime,
    people: Mapping[str, int] | None = None,
    extra_messages: tuple[Message, ...] = (),
) -> EntryWork:
    """Run `phase`'s entry actions for `department`; repeats are dropped by unique keys."""
    spec = plan.department(department.name)
    members = list(plan.members(department.name))
    story = None
    if EntryAction.share_success_story in plan.phase(phase).entry_actions:
        dept_facts = story_facts(
            session=session, plan=plan, departments={department.id or 0: spec.name}, now=now
        )
        story = dept_facts.get(spec.name)
    work = entry_work(
        plan, spec, phase, now=now, members=members, previous_phase=previous_phase, story=story
    )
    ids = people if people is not None else person_ids(session=session, program_id=program_id)
    dept_id = department.id or 0
    insert_ignore(
        session=session,
        model=ChampionOnboarding,
        rows=[
            {"department_id": dept_id, "person_id": ids[c], "created_at": now, "welcomed_at": now}
            for c in work.onboard
            if c in ids
        ],
    )
    insert_ignore(
        session=session,
        model=TrainingAssignment,
        rows=[
            {
                "department_id": dept_id,
                "person_id": ids[a.person],
                "segment": a.segment,
                "module_id": a.module,
                "assigned_at": now,
                "due_at": a.due_at,
            }
            for a in work.assignments
            if a.person in ids
        ],
    )
    enqueue(
        session=session,
        plan=plan,
        program_id=program_id,
        department_ids={department.name: dept_id},
        messages=[*work.messages, *extra_messages],
        now=now,
    )
    return work
