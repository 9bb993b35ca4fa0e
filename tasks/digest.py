"""The weekly digest: what the store says about the past week, queued for sponsors,
executives and the lead.

notifications/digest_messages.py shapes the messages from plain figures; the KPI figures come
from the metrics code (`store.impact.digest_totals`: the week's totals and the week
before's), the departments' phases and holding gates from the same live view `status`
shows, and the week's moves from the transitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.phases import Event
from pilotscale.core.states import Outcome
from pilotscale.db import get_engine
from pilotscale.engine.enqueue import enqueue
from pilotscale.models import Department, Transition
from pilotscale.notifications.digest_messages import DepartmentLine, figures, weekly_digest
from pilotscale.store.impact import digest_totals
from pilotscale.store.snapshot import ProgramView, live_verdicts, load_view
from pilotscale.tasks.policy import store_task

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class DigestResult:
    program: str
    week_start: date
    recipients: int
    enqueued: int  # 0 when this week's digest was already queued


def department_lines(*, session: Session, view: ProgramView, now: datetime) -> list[DepartmentLine]:
    verdicts = live_verdicts(session=session, view=view, now=now)
    titles = {g.name: g.title for g in view.plan.gates}
    zone = ZoneInfo(view.plan.program.timezone)
    return [
        DepartmentLine(
            name=d.name,
            title=d.title,
            phase=d.phase,
            status=d.status,
            since=d.phase_entered_at.astimezone(zone).date(),
            held_by=tuple(
                titles.get(r.gate, r.gate)
                for r in (verdicts[d.name].results if d.name in verdicts else ())
                if r.outcome is not Outcome.passed
            ),
        )
        for d in view.departments
    ]


def advanced_during(
    *, session: Session, view: ProgramView, start: datetime, end: datetime
) -> list[tuple[str, str]]:
    titles = {p.name: p.title or p.name for p in view.plan.phases}
    rows = session.exec(
        select(Department.title, Transition.to_phase)
        .join(Department, col(Department.id) == col(Transition.department_id))
        .where(
            col(Department.program_id) == (view.program.id or 0),
            col(Transition.event) == Event.advance.value,
            col(Transition.at) > start,
            col(Transition.at) <= end,
        )
        .order_by(col(Transition.at))
    ).all()
    return [(title, titles.get(phase, phase)) for title, phase in rows]


def queue_weekly_digest(*, engine: Engine, now: datetime, program: str | None) -> DigestResult:
    """Queue the digest of the seven days before `now`; a second run on the same local day
    queues nothing (the messages are keyed by program and week start)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view = load_view(session=session, program=program)
        week_start = view.today(now) - WEEK
        this_week, last_week = digest_totals(session=session, view=view, now=now)
        messages = weekly_digest(
            view.plan,
            week_start=week_start,
            impact=figures(view.plan, this_week, last_week),
            departments=department_lines(session=session, view=view, now=now),
            advanced=advanced_during(session=session, view=view, start=now - WEEK, end=now),
            now=now,
        )
        enqueued = enqueue(
            session=session,
            plan=view.plan,
            program_id=view.program.id or 0,
            department_ids={},
            messages=messages,
            now=now,
        )
    return DigestResult(view.plan.program.name, week_start, len(messages), enqueued)


@store_task("queue-weekly-digest")
def queue_digest(*, as_of: datetime, program: str | None) -> DigestResult:
    return queue_weekly_digest(engine=get_engine(), now=as_of, program=program)
