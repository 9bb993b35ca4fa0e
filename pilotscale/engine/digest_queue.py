"""The weekly digest: what the store says about the past week, queued for sponsors,
executives and the lead.

notifications/digest.py shapes the messages from plain figures; the KPI figures come
from the metrics code (`store.impact.digest_totals`: the week's totals and the week
before's), the departments' phases and holding gates from the same verdicts `status`
shows (pilotscale.engine.verdicts), the week's moves from the transitions, and the
week's success stories with their KPI results (engine.story_facts, as the stories sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.stories import StoryFacts
from pilotscale.core.vocabulary import State
from pilotscale.engine.enqueue import enqueue
from pilotscale.engine.story_facts import story_facts
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.notifications.digest_messages import (
    DepartmentLine,
    StoryLine,
    figures,
    weekly_digest,
)
from pilotscale.plan.schema import EntryAction
from pilotscale.report.data import build_report
from pilotscale.report.headline import headline, states
from pilotscale.store.impact import digest_totals
from pilotscale.store.queries import advances_between, entries_between
from pilotscale.store.snapshot import ProgramView, load_view

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class DigestResult:
    program: str
    week_start: date
    recipients: int
    enqueued: int  # 0 when this week's digest was already queued


def department_lines(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    words: Mapping[str, State] | None = None,
) -> list[DepartmentLine]:
    verdicts = read_verdicts(session=session, view=view, now=now)
    words = words or {}
    # The plan's gate titles: an implicit min_soak gate, which has none there, is named
    # by its gate name, as the digest always has.
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
                titles.get(g.gate, g.gate)
                for g in (verdicts[d.name].holding if d.name in verdicts else ())
            ),
            state=str(words.get(d.name, "")),
        )
        for d in view.departments
    ]


def advanced_during(
    *, session: Session, view: ProgramView, start: datetime, end: datetime
) -> list[tuple[str, str]]:
    """(department title, phase title) of each advance in (start, end]."""
    titles = {p.name: p.title or p.name for p in view.plan.phases}
    moves = advances_between(session=session, program_id=view.program.id or 0, start=start, end=end)
    return [(title, titles.get(phase, phase)) for title, phase in moves]


def stories_during(
    *, session: Session, view: ProgramView, start: datetime, end: datetime
) -> list[StoryLine]:
    """The success stories of (start, end]: each department that started or advanced into
    a phase that shares one, once (its latest entry), with its KPI results as of `end`."""
    phases = [
        p.name for p in view.plan.phases if EntryAction.share_success_story in p.entry_actions
    ]
    entries = entries_between(
        session=session, program_id=view.program.id or 0, phases=phases, start=start, end=end
    )
    latest = {name: (dept_id, phase, at) for dept_id, name, phase, at in entries}
    facts = story_facts(
        session=session,
        plan=view.plan,
        departments={dept_id: name for name, (dept_id, _, _) in latest.items()},
        now=end,
    )
    zone = ZoneInfo(view.plan.program.timezone)
    return [
        StoryLine(name, phase, at.astimezone(zone).date(), facts.get(name, StoryFacts()))
        for name, (_, phase, at) in latest.items()
    ]


def queue_weekly_digest(*, engine: Engine, now: datetime, program: str | None) -> DigestResult:
    """Queue the digest of the seven days before `now`; a second run on the same local day
    queues nothing (the messages are keyed by program and week start)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view = load_view(session=session, program=program)
        week_start = view.today(now) - WEEK
        this_week, last_week = digest_totals(session=session, view=view, now=now)
        # The report's headline and words, from the same verdicts, so the digest and the
        # report an executive opens from it say the same thing.
        report = build_report(session=session, view=view, now=now, with_charts=False)
        lead = headline(report)
        messages = weekly_digest(
            view.plan,
            week_start=week_start,
            impact=figures(view.plan, this_week, last_week),
            departments=department_lines(session=session, view=view, now=now, words=states(report)),
            advanced=advanced_during(session=session, view=view, start=now - WEEK, end=now),
            headline=lead.sentences,
            tiles=[(t.label, t.value, t.note) for t in lead.tiles],
            stories=stories_during(session=session, view=view, start=now - WEEK, end=now),
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
