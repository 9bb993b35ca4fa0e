"""Lessons learned (`pilotscale note`): recorded with identity, shown with the department."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.duties import ReasonRequired
from pilotscale.core.permissions import NotAllowed
from pilotscale.engine.acting import Refused, cli_actor
from pilotscale.engine.notes import MAX_NOTE, record_note
from pilotscale.engine.people_lines import lines
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.models import Note
from pilotscale.report.data import read_report
from pilotscale.report.markdown import render_markdown
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, OUTSIDER

DEPT = "d001"
LESSON = "Office hours at 9:00 reached <b>twice</b> the people of 16:00"


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    h.into_piloting(engine)
    return engine


def _notes(engine: Engine) -> list[Note]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(Note)))


def _note(engine: Engine, by: str, text: str = LESSON, **behalf: str) -> str:
    return record_note(
        engine=engine,
        department=DEPT,
        actor=cli_actor(by, **behalf),
        text=text,
        now=h.day(3),
    ).message


def test_a_champion_notes_a_lesson_with_identity_and_it_is_shown(piloting: Engine) -> None:
    said = _note(piloting, f"{DEPT}-champ1")

    assert said == "note recorded for Department 1"
    (row,) = _notes(piloting)
    assert (row.written_by, row.phase, row.text, row.identity_source) == (
        f"{DEPT}-champ1",
        "piloting",
        LESSON,
        "cli",
    )
    assert row.os_user
    with Session(piloting) as session:
        view = load_view(session=session)
        verdicts = read_verdicts(session=session, view=view, now=h.day(4), with_people=True)
        early = read_verdicts(session=session, view=view, now=h.day(2), with_people=True)
        (shown,) = lines(view.plan, verdicts[DEPT].people).notes
    assert shown.startswith("2026-11-05 ")
    assert shown.endswith(f"(piloting): {LESSON}")
    # Nothing written after the moment a view is for shows in it.
    assert early[DEPT].people is not None
    assert early[DEPT].people.notes == ()


def test_the_report_lists_lessons_per_department_escaped(piloting: Engine) -> None:
    _note(piloting, f"{DEPT}-sponsor")

    data = read_report(engine=piloting, program=None, now=h.day(4), with_charts=False)
    (row,) = [d for d in data.departments if d.name == DEPT]
    assert len(row.notes) == 1
    markdown = render_markdown(data)
    assert "## Lessons learned" in markdown
    assert "<b>" not in markdown.split("## Lessons learned")[1]


def test_a_lead_enters_a_note_on_someones_behalf_and_it_says_so(piloting: Engine) -> None:
    said = _note(piloting, LEAD, on_behalf_of=f"{DEPT}-casual1", reason="told me at lunch")

    assert said.endswith("on behalf: 'told me at lunch'")
    (row,) = _notes(piloting)
    assert (row.written_by, row.acted_by, row.on_behalf_reason) == (
        f"{DEPT}-casual1",
        LEAD,
        "told me at lunch",
    )


def test_a_note_needs_text_a_sane_length_and_someone_of_the_department(piloting: Engine) -> None:
    with pytest.raises(ReasonRequired):
        _note(piloting, f"{DEPT}-casual1", text="  ")
    with pytest.raises(Refused, match=f"at most {MAX_NOTE} characters"):
        _note(piloting, f"{DEPT}-casual1", text="x" * (MAX_NOTE + 1))
    with pytest.raises(NotAllowed, match="not in 'd001'"):
        _note(piloting, OUTSIDER)
    assert _notes(piloting) == []
