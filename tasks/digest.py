"""The weekly digest: what the store says about last week, queued for sponsors and executives.

notifications/digest.py shapes the messages from plain figures; this module reads those
figures from the store. Until the metrics and report code offers its own impact totals,
a KPI's figure is the sum of the observations of the metric with the KPI's name over
the week (the average for a `fraction` KPI, where a sum means nothing), and the week
before for the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from models import Department, MetricObservation, Transition
from notifications.digest import DepartmentLine, figures, weekly_digest
from pilotscale.core.phases import Event
from pilotscale.core.states import Outcome
from pilotscale.db import get_engine
from pilotscale.store.outbox import enqueue
from pilotscale.store.snapshot import ProgramView, live_verdicts, load_view
from tasks.policy import store_task


@dataclass(frozen=True)
class DigestResult:
    program: str
    week_start: date
    recipients: int
    enqueued: int  # 0 when this week's digest was already queued


def week_window(view: ProgramView, now: datetime) -> tuple[date, datetime, datetime]:
    """The reported week: the seven local days before `now`'s local day, as UTC bounds."""
    zone = ZoneInfo(view.plan.program.timezone)
    today = view.today(now)
    week_start = today - timedelta(days=7)
    start = datetime.combine(week_start, time(), tzinfo=zone)
    end = datetime.combine(today, time(), tzinfo=zone)
    return week_start, start, end


def kpi_totals(
    *, session: Session, view: ProgramView, start: datetime, end: datetime
) -> dict[str, float | None]:
    """Per program KPI, the week's figure from the observations of the same-named metric."""
    wanted = {k.name: k for k in view.plan.program.kpis}
    if not wanted:
        return {}
    m = MetricObservation
    rows = session.exec(
        select(m.metric, func.sum(m.value), func.avg(m.value))
        .where(
            col(m.program_id) == (view.program.id or 0),
            col(m.metric).in_(list(wanted)),
            col(m.observed_at) >= start,
            col(m.observed_at) < end,
        )
        .group_by(col(m.metric))
    ).all()
    totals: dict[str, float | None] = dict.fromkeys(wanted)
    for metric, total, average in rows:
        value = average if wanted[metric].unit == "fraction" else total
        totals[metric] = None if value is None else round(float(value), 4)
    return totals


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
            col(Transition.at) >= start,
            col(Transition.at) < end,
        )
        .order_by(col(Transition.at))
    ).all()
    return [(title, titles.get(phase, phase)) for title, phase in rows]


def queue_weekly_digest(*, engine: Engine, now: datetime, program: str | None) -> DigestResult:
    """Queue this week's digest; a second run for the same week queues nothing (same key)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view = load_view(session=session, program=program)
        week_start, start, end = week_window(view, now)
        previous = kpi_totals(
            session=session, view=view, start=start - timedelta(days=7), end=start
        )
        messages = weekly_digest(
            view.plan,
            week_start=week_start,
            impact=figures(
                view.plan, kpi_totals(session=session, view=view, start=start, end=end), previous
            ),
            departments=department_lines(session=session, view=view, now=now),
            advanced=advanced_during(session=session, view=view, start=start, end=end),
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
