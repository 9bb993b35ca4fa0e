"""Applying a plan: idempotent, explained change by change, and never losing history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

import pilotscale.store.apply
from pilotscale.db import session_scope
from pilotscale.models import Department, Person, PersonRole, Program, Transition
from pilotscale.plan.loader import LoadedPlan
from pilotscale.store.apply import ApplyRefused, ApplyReport, apply_plan
from pilotscale.store.queries import (
    department_history,
    get_department,
    get_program,
    list_departments,
    load_program_plan,
)
from tests.pilotscale.store.helpers import NOW, PLAN, edit, load, row_counts, without_department
from tests.plans import loaded as loaded_plan
from tests.plans import plan_dict

LATER = NOW + timedelta(days=7)


def _apply(
    engine: Engine, loaded: LoadedPlan, *, force: bool = False, now: Any = NOW
) -> ApplyReport:
    with session_scope(engine=engine) as session:
        return apply_plan(session=session, loaded=loaded, force=force, now=now, actor="leo.lead")


@contextmanager
def _writes(engine: Engine) -> Iterator[list[str]]:
    """Every INSERT, UPDATE and DELETE sent to the database inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _departments(engine: Engine) -> dict[str, Department]:
    with Session(engine) as session:
        program = get_program(session=session, name=None)
        assert program.id is not None
        rows = list_departments(session=session, program_id=program.id, include_removed=True)
        return {row.name: row for row in rows}


def _set_phase(engine: Engine, name: str, phase: str) -> None:
    """Move a department on as the state machine would (not apply's business)."""
    with Session(engine) as session:
        row = session.exec(select(Department).where(col(Department.name) == name)).one()
        row.phase = phase
        row.started_at = NOW
        row.version += 1
        session.add(row)
        session.commit()


# --------------------------------------------------------------------------- first apply


def test_first_apply_creates_program_departments_and_people(engine: Engine) -> None:
    loaded = load()

    report = _apply(engine, loaded)

    assert report == ApplyReport(
        program="helpdesk-bot",
        created=True,
        changes=[
            "program helpdesk-bot created",
            "department support added (operating)",
            "department finance added (planned)",
            "department legal added (planned)",
            "6 people added",
        ],
        unchanged=False,
    )
    departments = _departments(engine)
    support, finance = departments["support"], departments["finance"]
    assert (support.phase, support.status, support.version) == ("operating", "active", 1)
    assert support.started_at == NOW  # the finished pilot has started, by definition
    assert (finance.phase, finance.started_at, finance.headcount) == ("planned", None, 120)
    with Session(engine) as session:
        program = get_program(session=session, name="helpdesk-bot")
        assert program.plan_sha256 == loaded.sha256
        assert load_program_plan(session=session, program=program, people=False) == loaded.plan
        assert finance.id is not None
        history = department_history(session=session, department_id=finance.id)
    assert [
        (t.from_phase, t.to_phase, t.to_status, t.event, t.actor, t.reason) for t in history
    ] == [(None, "planned", "active", "apply", "leo.lead", "initial phase from plan")]


def test_people_and_their_roles(engine: Engine) -> None:
    _apply(engine, load())

    with Session(engine) as session:
        people = {p.id: p for p in session.exec(select(Person))}
        departments = {d.id: d.name for d in session.exec(select(Department))}
        roles = {
            (people[r.person_id].key, r.role, departments.get(r.department_id), r.detail)
            for r in session.exec(select(PersonRole))
        }
    fran = next(p for p in people.values() if p.key == "fran.champion")
    assert (fran.segment, departments[fran.department_id]) == ("power", "finance")
    assert {
        ("fran.champion", "champion", "finance", ""),
        ("fran.champion", "champion", None, ""),
        ("ines.sponsor", "sponsor", "finance", ""),
        ("ines.sponsor", "sponsor", None, "program"),
        ("leo.lead", "lead", None, "program"),
        ("leo.lead", "support_owner", "finance", "content"),
        ("it.desk", "support_owner", "finance", "technical"),
        ("ines.sponsor", "approver", None, "go-ahead"),
    } <= roles
    assert ("leo.lead", "support_owner", "legal", "content") not in roles


# --------------------------------------------------------------------------- idempotence


def test_applying_the_same_plan_again_writes_nothing(engine: Engine) -> None:
    _apply(engine, load())
    counts, departments = row_counts(engine), _departments(engine)

    with _writes(engine) as writes:
        report = _apply(engine, load(), now=LATER)

    assert report == ApplyReport(program="helpdesk-bot", created=False, changes=[], unchanged=True)
    assert writes == []
    assert row_counts(engine) == counts
    after = _departments(engine)
    assert {n: (d.version, d.updated_at) for n, d in after.items()} == {
        n: (d.version, d.updated_at) for n, d in departments.items()
    }
    with Session(engine) as session:
        assert get_program(session=session, name=None).applied_at == NOW


def test_comments_and_formatting_are_not_changes(engine: Engine) -> None:
    _apply(engine, load())
    reformatted = "# reviewed by legal\n" + edit(PLAN, "headcount: 120", "headcount:   120  # FTE")

    assert _apply(engine, load(reformatted), now=LATER).unchanged


# --------------------------------------------------------------------------- changes


def test_a_changed_plan_is_described_change_by_change(engine: Engine) -> None:
    _apply(engine, load())
    before = _departments(engine)
    text = edit(PLAN, "headcount: 120", "headcount: 140")
    text = edit(text, "threshold: 0.5", "threshold: 0.6")
    text = edit(text, 'readiness_check: "0 9 * * 1"', 'readiness_check: "0 9 * * 1-5"')
    text = edit(text, "champions: [fran.champion]", "champions: [fran.champion, ana.ruiz]")
    text = edit(
        text,
        "  - {id: it.desk,",
        "  - {id: ana.ruiz, name: Ana Ruiz, email: ana@example.com, department: finance}\n"
        "  - {id: it.desk,",
    )
    text = edit(
        text,
        "people:\n",
        "  - {name: ops, title: Operations, headcount: 300, wave: 2, sponsor: ines.sponsor}\n"
        "people:\n",
    )

    report = _apply(engine, load(text), now=LATER)

    assert not report.unchanged
    assert not report.created
    assert report.changes == [
        "schedule changed: readiness_check 0 9 * * 1 → 0 9 * * 1-5",
        "gate weekly-active: threshold 0.5 → 0.6",
        "department finance: headcount 120 → 140",
        "department finance: champions: added ana.ruiz",
        "department ops added (planned)",
        "person ana.ruiz added",
    ]
    after = _departments(engine)
    assert (after["finance"].headcount, after["finance"].version) == (140, 2)
    assert after["finance"].updated_at == LATER
    # Untouched departments are not written to: their version and timestamp stay.
    assert (after["legal"].version, after["legal"].updated_at) == (1, before["legal"].updated_at)
    assert (after["ops"].phase, after["ops"].version) == ("planned", 1)
    with Session(engine) as session:
        program = get_program(session=session, name=None)
        assert (
            load_program_plan(session=session, program=program).department("finance").headcount
            == 140
        )
        assert program.applied_at == LATER


def test_people_left_out_are_soft_removed_and_can_come_back(engine: Engine) -> None:
    _apply(engine, load())
    line = "  - {id: it.desk, name: IT Desk, email: it@example.com, roles: [support_owner]}\n"
    text = edit(PLAN, line, "")
    text = edit(text, "    support: {technical: it.desk, adoption: it.desk}\n", "")
    text = edit(
        text,
        "support: {technical: it.desk, adoption: it.desk, content: leo.lead}",
        "support: {content: leo.lead}",
    )

    report = _apply(engine, load(text), now=LATER)

    assert "person it.desk removed" in report.changes
    with Session(engine) as session:
        desk = session.exec(select(Person).where(col(Person.key) == "it.desk")).one()
        assert desk.removed_at == LATER
        roles = session.exec(select(PersonRole).where(col(PersonRole.person_id) == desk.id)).all()
        assert roles == []

    report = _apply(engine, load(), now=LATER + timedelta(days=1))

    assert "person it.desk restored" in report.changes
    with Session(engine) as session:
        desk = session.exec(select(Person).where(col(Person.key) == "it.desk")).one()
        assert desk.removed_at is None


def test_removing_a_department_that_has_not_started(engine: Engine) -> None:
    _apply(engine, load())

    report = _apply(engine, load(without_department(PLAN, "legal")), now=LATER)

    assert "department legal removed (had not started)" in report.changes
    legal = _departments(engine)["legal"]
    assert legal.removed_at == LATER
    with Session(engine) as session:
        program = get_program(session=session, name=None)
        assert program.id is not None
        names = [d.name for d in list_departments(session=session, program_id=program.id)]
        assert names == ["support", "finance"]


# --------------------------------------------------------------------------- refusals


def test_removing_a_started_department_is_refused_then_forced(engine: Engine) -> None:
    _apply(engine, load())
    _set_phase(engine, "finance", "piloting")
    counts = row_counts(engine)
    shrunk = load(without_department(PLAN, "finance"))

    with pytest.raises(ApplyRefused) as info:
        _apply(engine, shrunk, now=LATER)

    assert info.value.reasons == [
        "department finance has started (phase piloting) and is not in the plan any more "
        "(removed or renamed); use --force to remove it anyway (its history is kept)"
    ]
    assert row_counts(engine) == counts  # refused before anything was written
    with Session(engine) as session:
        assert get_program(session=session, name=None).plan_sha256 == load().sha256

    report = _apply(engine, shrunk, force=True, now=LATER)

    assert "department finance removed (was piloting; history kept)" in report.changes
    finance = _departments(engine)["finance"]
    assert finance.removed_at == LATER
    assert finance.phase == "piloting"
    with Session(engine) as session:
        assert finance.id is not None
        history = department_history(session=session, department_id=finance.id)
        program = get_program(session=session, name=None)
        assert program.id is not None
        with pytest.raises(LookupError):
            get_department(session=session, program_id=program.id, name="finance")
        kept = get_department(
            session=session, program_id=program.id, name="finance", include_removed=True
        )
    assert kept.id == finance.id
    assert [(t.event, t.to_phase) for t in history] == [
        ("apply", "planned"),
        ("remove", "piloting"),
    ]
    assert history[1].reason == "removed from the plan (forced: it had started)"


def test_renaming_a_started_department_is_refused(engine: Engine) -> None:
    _apply(engine, load())
    _set_phase(engine, "finance", "piloting")
    renamed = PLAN.replace("department: finance,", "department: accounting,")
    renamed = edit(renamed, "  - name: finance\n", "  - name: accounting\n")

    with pytest.raises(ApplyRefused) as info:
        _apply(engine, load(renamed), now=LATER)

    assert "department finance has started (phase piloting)" in info.value.reasons[0]


def test_dropping_the_phase_a_department_is_in_is_refused(engine: Engine) -> None:
    _apply(engine, load())
    text = edit(PLAN, "  - name: operating\n", "  - name: monitored\n")
    text = edit(text, "initial_phase: operating", "initial_phase: monitored")
    text = edit(text, "default_reaches: operating", "default_reaches: monitored")

    with pytest.raises(ApplyRefused) as info:
        _apply(engine, load(text), now=LATER)

    assert info.value.reasons == [
        "department support is in phase operating, which the plan no longer has; roll support "
        "back first, or use --force to leave it in a phase the plan does not list"
    ]


def test_a_removed_department_comes_back_with_its_history(engine: Engine) -> None:
    _apply(engine, load())
    _set_phase(engine, "finance", "piloting")
    _apply(engine, load(without_department(PLAN, "finance")), force=True, now=LATER)

    report = _apply(engine, load(), now=LATER + timedelta(days=1))

    assert "department finance restored (piloting)" in report.changes
    finance = _departments(engine)["finance"]
    assert (finance.removed_at, finance.phase) == (None, "piloting")
    with Session(engine) as session:
        assert finance.id is not None
        events = [t.event for t in department_history(session=session, department_id=finance.id)]
    assert events == ["apply", "remove", "restore"]


def test_dry_run_by_rollback_leaves_the_store_untouched(engine: Engine) -> None:
    _apply(engine, load())
    counts = row_counts(engine)

    with Session(engine) as session:
        report = apply_plan(
            session=session,
            loaded=load(edit(PLAN, "headcount: 120", "headcount: 150")),
            now=LATER,
            actor="leo.lead",
        )
        session.rollback()

    assert report.changes == ["department finance: headcount 120 → 150"]
    assert row_counts(engine) == counts
    assert _departments(engine)["finance"].headcount == 120


def test_two_programs_live_side_by_side(engine: Engine) -> None:
    _apply(engine, load())
    other = edit(PLAN, "name: helpdesk-bot", "name: sales-copilot")

    report = _apply(engine, load(other))

    assert report.created
    with Session(engine) as session:
        names = [p.name for p in session.exec(select(Program).order_by(col(Program.name)))]
        transitions = len(session.exec(select(Transition)).all())
    assert names == ["helpdesk-bot", "sales-copilot"]
    assert transitions == 6


# --------------------------------------------------------------------------- scale


def test_bound_parameters_per_statement_do_not_grow_with_the_plan(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL refuses a statement with more than 65,535 bound parameters, so a
    # 100,000-person plan only applies if no statement lists every person. Multi-row
    # INSERTs are left out: SQLAlchemy pages those under the limit itself.
    monkeypatch.setattr(pilotscale.store.apply, "STALE_BATCH", 7)

    def widest_statement(departments: int) -> int:
        widest = 0

        def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
            nonlocal widest
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb != "INSERT" and isinstance(parameters, dict | tuple):
                widest = max(widest, len(parameters))

        event.listen(engine, "before_cursor_execute", record)
        try:
            # Applied, then shrunk: both the read of stored roles and the delete of
            # the stale ones see every person of the larger plan.
            for data in (plan_dict(departments), plan_dict(departments // 2)):
                _apply(engine, loaded_plan(data), force=True)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        return widest

    # 240 people, 120 removed: listing them would take 120 or more parameters; a
    # statement about one row takes at most a row's worth.
    assert widest_statement(40) <= 20


def test_people_are_stored_without_their_defaults_and_read_back_whole(engine: Engine) -> None:
    loaded = load()
    _apply(engine, loaded)

    with Session(engine) as session:
        program = get_program(session=session, name=None)
        stored = json.loads(session.exec(select(Program.plan_json)).one())
        plan = load_program_plan(session=session, program=program, people=False)
    people = {p["id"]: p for p in stored["people"]}
    assert set(people["it.desk"]) == {"id", "name", "email", "roles"}  # the rest is default
    assert plan == loaded.plan
    # Not said: the roster's, else email (`store.roster_plan`).
    assert plan.person("it.desk").notify is None
    assert plan.person("it.desk").effective_notify == "email"
