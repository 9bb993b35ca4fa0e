"""Entering a phase: onboard champions, assign training, announce — records and messages
written in the caller's transaction, so a crash leaves either all of it or none."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from pilotscale.core.messages import EntryWork, Message, entry_work
from pilotscale.core.stories import StoryFacts
from pilotscale.engine.enqueue import enqueue
from pilotscale.engine.story_facts import story_facts
from pilotscale.models import ChampionOnboarding, Department, Person, TrainingAssignment
from pilotscale.plan.schema import EntryAction, Plan
from pilotscale.store.insert import insert_ignore_many


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
    ids = people if people is not None else person_ids(session=session, program_id=program_id)
    work, onboard, assignments = entry_rows(
        plan=plan,
        department=department,
        phase=phase,
        previous_phase=previous_phase,
        now=now,
        people=ids,
        story=story_for(session=session, plan=plan, department=department, phase=phase, now=now),
    )
    insert_ignore_many(session=session, model=ChampionOnboarding, rows=onboard)
    insert_ignore_many(session=session, model=TrainingAssignment, rows=assignments)
    enqueue(
        session=session,
        plan=plan,
        program_id=program_id,
        department_ids={department.name: department.id or 0},
        messages=[*work.messages, *extra_messages],
        now=now,
    )
    return work


def story_for(
    *, session: Session, plan: Plan, department: Department, phase: str, now: datetime
) -> StoryFacts | None:
    """The department's story as it enters `phase`, when the phase shares one: its KPI
    results and lessons, read now, in the caller's transaction."""
    if EntryAction.share_success_story not in plan.phase(phase).entry_actions:
        return None
    found = story_facts(
        session=session, plan=plan, departments={department.id or 0: department.name}, now=now
    )
    return found.get(department.name)


def entry_rows(
    *,
    plan: Plan,
    department: Department,
    phase: str,
    previous_phase: str | None,
    now: datetime,
    people: Mapping[str, int],
    story: StoryFacts | None = None,
) -> tuple[EntryWork, list[dict[str, Any]], list[dict[str, Any]]]:
    """What entering `phase` writes, not yet written: the work (its messages among it), the
    champions' onboarding rows and the training assignments. The readiness check inserts
    those of all the departments of a batch together."""
    spec = plan.department(department.name)
    members = list(plan.members(department.name))
    work = entry_work(
        plan, spec, phase, now=now, members=members, previous_phase=previous_phase, story=story
    )
    dept_id = department.id or 0
    onboard = [
        {"department_id": dept_id, "person_id": people[c], "created_at": now, "welcomed_at": now}
        for c in work.onboard
        if c in people
    ]
    assignments = [
        {
            "department_id": dept_id,
            "person_id": people[a.person],
            "segment": a.segment,
            "module_id": a.module,
            "assigned_at": now,
            "due_at": a.due_at,
        }
        for a in work.assignments
        if a.person in people
    ]
    return work, onboard, assignments
