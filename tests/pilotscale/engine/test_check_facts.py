"""The readiness check's summary from the check's own facts is the summary read afresh
after it: the same verdicts and the same Markdown, on a generated store where the check
advances, holds and blocks, with a paused department, a newcomer to train, a barrier, a
note and gates pending at earlier checks (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from bench.generate import NOW, generate
from bench.plan import LEAD
from pilotscale.core.decisions import Action
from pilotscale.core.phases import Event
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.barriers import report_barrier
from pilotscale.engine.check import (
    CheckReport,
    PreparedCheck,
    apply_check,
    prepare_check,
    run_readiness_check,
)
from pilotscale.engine.check_facts import standing_verdicts
from pilotscale.engine.notes import record_note
from pilotscale.engine.operator import operate
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.models import Person, TrainingAssignment
from pilotscale.report.data import read_report
from pilotscale.report.markdown import render_markdown
from pilotscale.store.snapshot import load_view


def checked(engine: Engine) -> tuple[PreparedCheck, CheckReport, dict[str, str]]:
    """A store after its check at NOW, the check's parts, and the roles the test gave
    its departments (by role: a department name)."""
    generate(engine=engine, departments=40)
    # Earlier checks: some gates have been pending at recorded checks (and the check at
    # NOW records one more), some departments are blocked before it.
    for days in (14, 7):
        run_readiness_check(engine=engine, now=NOW - timedelta(days=days))
    dry = prepare_check(engine=engine, now=NOW)
    final = dry.view.machine.final
    held = [
        d.department for d in dry.decisions if d.action is Action.hold and d.before.phase != final
    ]
    trained = next(
        name
        for name in held
        if any(g.kind == "training" for g in dry.verdicts[name].gates)
        and dry.verdicts[name].blackout is None
    )
    paused, noted = [name for name in held if name != trained][:2]
    roles = {"trained": trained, "paused": paused, "noted": noted}
    lead = cli_actor(LEAD)
    operate(engine=engine, department=paused, event=Event.pause, actor=lead, reason="x", now=NOW)
    report_barrier(
        engine=engine,
        department=noted,
        actor=lead,
        text="no licences",
        now=NOW - timedelta(hours=1),
    )
    record_note(
        engine=engine,
        department=noted,
        actor=lead,
        text="start small",
        now=NOW - timedelta(hours=1),
    )
    with Session(engine) as session, session.begin():
        # A trainee with nothing assigned: joined the roster after the training went out.
        person = session.exec(
            select(TrainingAssignment.person_id).where(
                TrainingAssignment.department_id == dry.view.department(trained).id
            )
        ).first()
        session.exec(delete(TrainingAssignment).where(col(TrainingAssignment.person_id) == person))
        assert session.get(Person, person) is not None
    prepared = prepare_check(engine=engine, now=NOW)
    report = apply_check(engine=engine, prepared=prepared)
    return prepared, report, roles


def afresh_and_from_the_check(
    engine: Engine, prepared: PreparedCheck, report: CheckReport
) -> tuple[str, str]:
    # Everything the page shows too: leaving out what only its charts show changes nothing.
    afresh = read_report(engine=engine, program=None, now=NOW, with_charts=True)
    known = standing_verdicts(prepared, report)
    reused = read_report(engine=engine, program=None, now=NOW, with_charts=False, known=known)
    return render_markdown(afresh), render_markdown(reused)


def test_the_summary_from_the_checks_facts_is_the_summary_read_afresh(engine: Engine) -> None:
    prepared, report, roles = checked(engine)

    tally = report.tally()
    assert tally["advance"]
    assert tally["hold"]
    assert tally["block"]
    assert prepared.newcomers[roles["trained"]]
    known = standing_verdicts(prepared, report)
    moved = {d.department for d in report.decisions if d.action is Action.advance}
    assert known
    assert not moved & set(known)
    assert roles["trained"] not in known  # the check assigned its newcomer's training
    assert roles["paused"] not in prepared.verdicts  # outside the check: read afresh

    afresh, reused = afresh_and_from_the_check(engine, prepared, report)

    assert reused == afresh
    assert "no licences" in afresh  # a barrier of a held department
    assert "start small" in afresh  # a note


def test_the_verdicts_from_the_checks_facts_are_those_read_afresh(engine: Engine) -> None:
    """Field for field, the pending checks the check itself recorded included."""
    prepared, report, _ = checked(engine)
    known = standing_verdicts(prepared, report)

    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=None)
        afresh = read_verdicts(session=session, view=view, now=NOW, with_people=True)
        reused = read_verdicts(session=session, view=view, now=NOW, with_people=True, known=known)

    assert reused == afresh
    assert any(g.pending_checks for v in afresh.values() for g in v.gates)


def test_a_verdict_of_an_earlier_visit_is_not_reused(engine: Engine) -> None:
    """Given the old phase's verdicts of the departments the check advanced, the report
    reads their new phase anyway."""
    prepared, report, _ = checked(engine)
    advanced = {d.department for d in report.decisions if d.action is Action.advance}
    stale = {name: v for name, v in prepared.verdicts.items() if name in advanced}

    afresh = read_report(engine=engine, program=None, now=NOW, with_charts=False)
    given = read_report(engine=engine, program=None, now=NOW, with_charts=False, known=stale)

    assert stale
    assert render_markdown(given) == render_markdown(afresh)
