"""Anyone in a department reports a barrier (a pain point, a skeptic's objection): it is
shown with the department until resolved, and the owner of its support area is told."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.actors import Actor
from pilotscale.core.duties import require_text
from pilotscale.core.permissions import allow_report_barrier
from pilotscale.core.recipients import SUPPORT_AREAS
from pilotscale.core.replies import barrier_owner, barrier_reported
from pilotscale.engine.acting import (
    Done,
    Refused,
    begin,
    on_behalf_note,
    recorded_os_user,
    use_link,
    view_and_row,
)
from pilotscale.engine.enqueue import enqueue
from pilotscale.links import Purpose
from pilotscale.models import Barrier


def report_barrier(
    *,
    engine: Engine,
    department: str,
    actor: Actor,
    text: str,
    now: datetime,
    area: str = "",
    program: str | None = None,
) -> Done:
    """Record a barrier met by `actor.subject` in `department` (area: a support area or '')."""
    said = require_text(text, what="say what is in the way: --text TEXT")
    if area and area not in SUPPORT_AREAS:
        raise Refused(f"'{area}' is not a support area; use one of: {', '.join(SUPPORT_AREAS)}")
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        allow_report_barrier(view.plan, act.subject, department)
        use_link(
            session,
            actor,
            purpose=Purpose.barrier,
            person=act.person.id,
            department_id=row.id,
            now=now,
        )
        session.add(
            Barrier(
                department_id=row.id or 0,
                phase=row.phase,
                reported_by=act.subject.id,
                area=area,
                text=said,
                reported_at=now,
                identity_source=act.identity_source,
                acted_by=act.acted_by,
                on_behalf_reason=act.reason,
                os_user=recorded_os_user(actor),
            )
        )
        spec = view.plan.department(department)
        enqueue(
            session=session,
            plan=view.plan,
            program_id=view.program.id or 0,
            department_ids={row.name: row.id or 0},
            messages=barrier_reported(
                view.plan,
                spec,
                phase=row.phase,
                reported_by=act.subject.id,
                area=area,
                text=said,
                now=now,
                entered_by=act.person.id if act.on_behalf else None,
                on_behalf_reason=act.reason,
            ),
            now=now,
        )
        owner = view.plan.person(barrier_owner(view.plan, spec, area)).name
    return Done(
        department, f"barrier recorded for {row.title}{on_behalf_note(act)}; {owner} is told"
    )
