"""A department entering a phase that shares its success story tells what it achieved: its
KPI results and lessons, to the other champions and the sponsors, and in the week's digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.digest_queue import queue_weekly_digest
from pilotscale.engine.notes import record_note
from pilotscale.engine.story_facts import story_facts
from pilotscale.report.data import read_report
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, plan_dict

DEPT = "d001"
CHECK = h.day(10)  # the piloting soak has passed
LESSON = "Office hours at 9:00 reached <b>twice</b> the people of 16:00"


@pytest.fixture
def scaling(engine: Engine) -> Engine:
    """d001 enters scaling at CHECK with a weekly active rate of 0.7 (target 0.6) and a
    lesson noted while piloting; d002 is not started."""
    h.into_piloting(engine, plan_dict(2))
    record_note(
        engine=engine,
        department=DEPT,
        actor=cli_actor(f"{DEPT}-champ1"),
        text=LESSON,
        now=h.day(3),
    )
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=CHECK - timedelta(hours=5))
    h.complete(engine, DEPT, "power", now=CHECK - timedelta(hours=1))
    h.attest(engine, DEPT, "guardrails", now=CHECK - timedelta(hours=1))
    h.approve(engine, DEPT, now=CHECK - timedelta(hours=1))
    run_readiness_check(engine=engine, now=CHECK)
    assert h.states(engine)[DEPT] == ("scaling", "active")
    return engine


def test_the_story_carries_actual_results_to_the_other_champions_and_the_sponsors(
    scaling: Engine,
) -> None:
    stories = h.outbox(scaling, event="success_story")

    recipients = [n.recipient_key for n in stories]
    assert sorted(recipients) == sorted(["d002-champ1", "d002-champ2", f"{DEPT}-sponsor", EXEC])
    assert len({h.context(n)["as_of"] for n in stories}) == 1
    (case,) = h.context(stories[0])["use_cases"]
    (kpi,) = case["kpis"]
    assert kpi["kpi"] == "weekly_active_rate"
    assert kpi["actual"] == pytest.approx(0.7)
    assert (kpi["target"], kpi["met"]) == (0.6, True)
    assert kpi["as_of"] == CHECK.isoformat()
    (lesson,) = h.context(stories[0])["lessons"]
    assert (lesson["text"], lesson["by"], lesson["phase"]) == (LESSON, "D001 Champ1", "piloting")


def test_a_rerun_check_tells_no_story_twice(scaling: Engine) -> None:
    before = len(h.outbox(scaling, event="success_story"))

    run_readiness_check(engine=scaling, now=CHECK)
    run_readiness_check(engine=scaling, now=CHECK + timedelta(hours=1))

    assert len(h.outbox(scaling, event="success_story")) == before == 4


def test_the_next_weekly_digest_shows_the_story_with_its_results(scaling: Engine) -> None:
    queue_weekly_digest(engine=scaling, now=h.day(11), program=None)

    digests = h.outbox(scaling, event="weekly_digest")
    assert digests
    (story,) = h.context(digests[0])["stories"]
    assert story["department"] == {"name": DEPT, "title": "Department 1"}
    assert (story["phase"], story["entered"]) == ("scaling", CHECK.date().isoformat())
    (kpi,) = story["use_cases"][0]["kpis"]
    assert kpi["actual"] == pytest.approx(0.7)
    assert kpi["met"] is True


def test_the_week_after_the_digest_has_no_story(scaling: Engine) -> None:
    queue_weekly_digest(engine=scaling, now=h.day(18), program=None)

    (digest, *_) = h.outbox(scaling, event="weekly_digest")
    assert h.context(digest)["stories"] == []


def test_a_kpi_gone_quiet_is_told_with_its_latest_reading_and_its_day(scaling: Engine) -> None:
    later = h.day(30)  # three weeks without a reading: the last-7-days average is empty
    with Session(scaling) as session:
        view = load_view(session=session)
        row = next(d for d in view.departments if d.name == DEPT)
        facts = story_facts(
            session=session, plan=view.plan, departments={row.id or 0: DEPT}, now=later
        )

    (result,) = facts[DEPT].results
    assert result.actual == pytest.approx(0.7)  # the mean of the day up to the last reading
    assert result.as_of == CHECK - timedelta(hours=3)


def test_the_report_still_lists_the_lessons_per_department(scaling: Engine) -> None:
    data = read_report(engine=scaling, program=None, now=h.day(11), with_charts=False)

    (row,) = [d for d in data.departments if d.name == DEPT]
    assert len(row.notes) == 1
    assert LESSON in row.notes[0]
