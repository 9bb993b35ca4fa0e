"""Importing rosters into a real store (SQLite and PostgreSQL): one person per plan person and
roster row, idempotence, deactivation and return, and apply's checks against the roster."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.metrics.reader import RecordFile
from pilotscale.metrics.roster_ingest import RosterCatalog, validate
from pilotscale.models import Person, PersonRole
from pilotscale.store.apply import ApplyRefused, apply_plan
from pilotscale.store.queries import get_program, list_departments, load_program_plan
from pilotscale.store.roster_rows import RosterCounts, RosterWriter, active_counts
from tests.pilotscale.store.helpers import NOW, PLAN, edit, load, row_counts

HEADER = "id,name,email,department,segment,roles,manager,chat,locale\n"
ROSTER = HEADER + (
    # fran.champion by id; it.desk by email under an HR id; two roster-only people
    "fran.champion,Francisca HR,fran@example.com,finance,casual,,,,\n"
    "E0042,Desk HR,it@example.com,finance,none,support_owner,,,\n"
    "E1001,Ana One,ana1@example.com,finance,casual,,e0042,@ana1,es-ES\n"
    "E1002,Bo Two,bo2@example.com,legal,power,champion,,,\n"
)


def apply(engine: Engine, text: str = PLAN) -> list[str]:
    with Session(engine) as session, session.begin():
        return apply_plan(session=session, loaded=load(text), now=NOW, actor="test").warnings


def import_roster(engine: Engine, tmp_path: Path, text: str, *, days: int = 0) -> RosterCounts:
    """What `pilotscale people import` does, without the process."""
    path = tmp_path / f"roster-{days}.csv"
    path.write_text(text, encoding="utf-8")
    with Session(engine) as session, session.begin():
        program = get_program(session=session, name=None)
        plan = load_program_plan(session=session, program=program, people=False)
        departments = {
            d.name: d.id or 0 for d in list_departments(session=session, program_id=program.id or 0)
        }
        writer = RosterWriter(
            session=session,
            program_id=program.id or 0,
            plan=plan,
            department_ids=departments,
            now=NOW + timedelta(days=days),
            batch=2,  # several chunks even for a small file
        )
        for row in validate(RecordFile(path, "csv").records(), RosterCatalog(plan, departments)):
            assert not isinstance(row, list), row
            writer.add(row)
        return writer.finish(fingerprint=f"sha-{days}")


def people(engine: Engine) -> dict[str, Person]:
    with Session(engine) as session:
        return {p.key: p for p in session.exec(select(Person))}


def test_a_plan_person_and_their_roster_row_are_one_person(engine: Engine, tmp_path: Path) -> None:
    apply(engine)

    counts = import_roster(engine, tmp_path, ROSTER)

    assert (counts.rows, counts.added, counts.updated, counts.deactivated) == (4, 2, 2, 0)
    found = people(engine)
    assert len(found) == 8  # the plan's 6 and two roster-only people
    fran, desk, ana = found["fran.champion"], found["it.desk"], found["e1001"]
    # The plan's name and explicit segment win; the roster vouches for them.
    assert (fran.name, fran.segment, fran.source, fran.in_roster) == ("Fran", "power", "plan", True)
    # it.desk has no department in the plan: the roster's; matched by email.
    assert (desk.segment, desk.department_id is not None, desk.in_roster) == ("none", True, True)
    assert (ana.source, ana.segment, ana.manager, ana.chat, ana.locale) == (
        "roster",
        "casual",
        "e0042",
        "@ana1",
        "es-ES",
    )
    assert found["e1002"].roster_roles == "champion"


def test_importing_the_same_roster_again_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    apply(engine)
    import_roster(engine, tmp_path, ROSTER)
    before = row_counts(engine)

    again = import_roster(engine, tmp_path, ROSTER, days=1)

    assert not again.changed
    assert again.unchanged == 4
    assert row_counts(engine) == before
    with Session(engine) as session:
        program = get_program(session=session, name=None)
    assert program.roster_sha256 == "sha-0"  # only an import that changed someone is recorded


def test_who_leaves_the_roster_is_deactivated_and_comes_back(
    engine: Engine, tmp_path: Path
) -> None:
    apply(engine)
    import_roster(engine, tmp_path, ROSTER)
    without = "".join(
        line for line in ROSTER.splitlines(keepends=True) if not line.startswith(("E1001", "fran"))
    )

    left = import_roster(engine, tmp_path, without, days=1)

    assert left.deactivated == 1  # Ana; Fran is in the plan and stays
    found = people(engine)
    assert found["e1001"].removed_at == NOW + timedelta(days=1)
    assert not found["e1001"].in_roster
    assert found["fran.champion"].removed_at is None
    assert not found["fran.champion"].in_roster
    with Session(engine) as session:
        program_id = get_program(session=session, name=None).id or 0
        assert active_counts(session=session, program_id=program_id)["finance"] == 2

    back = import_roster(engine, tmp_path, ROSTER, days=2)

    assert (back.reactivated, back.deactivated) == (1, 0)
    assert people(engine)["e1001"].removed_at is None


def test_apply_refuses_a_reference_to_nobody_and_accepts_a_roster_person(
    engine: Engine, tmp_path: Path
) -> None:
    apply(engine)
    named = edit(PLAN, "champions: [lola.champion]", "champions: [lola.champion, e1002]")

    with pytest.raises(ApplyRefused) as refused:
        apply(engine, named)

    assert refused.value.reasons == [
        "plan.yaml:53: departments[2].champions[1]: champion 'e1002' is neither under people "
        "nor on the active roster: add the person to the plan, or import a roster that lists "
        "them (pilotscale people import FILE)"
    ]
    import_roster(engine, tmp_path, ROSTER)
    apply(engine, named)
    with Session(engine) as session:
        roles = session.exec(
            select(PersonRole.role).join(Person).where(col(Person.key) == "e1002")
        ).all()
    assert roles == ["champion"]


def test_apply_warns_where_the_plans_headcount_is_off(engine: Engine, tmp_path: Path) -> None:
    apply(engine)
    import_roster(engine, tmp_path, ROSTER)

    warnings = apply(engine, edit(PLAN, "title: Helpdesk bot", "title: Helpdesk assistant"))

    # finance: fran, it.desk and Ana on the roster; legal: lola and Bo; support: sam.
    assert warnings == [
        "plan.yaml:35: departments[support].headcount 50 but the roster has 1 active person",
        "plan.yaml:43: departments[finance].headcount 120 but the roster has 3 active people",
        "plan.yaml:50: departments[legal].headcount 12 but the roster has 2 active people",
    ]


def test_a_person_off_the_plan_but_on_the_roster_stays_active(
    engine: Engine, tmp_path: Path
) -> None:
    apply(engine)
    import_roster(engine, tmp_path, ROSTER)
    text = edit(PLAN, "champions: [fran.champion]", "champions: []")
    text = edit(
        text,
        "  - {id: fran.champion, name: Fran, email: fran@example.com, department: finance, "
        "segment: power,\n     roles: [champion]}\n",
        "",
    )

    apply(engine, text)

    fran = people(engine)["fran.champion"]
    assert (fran.source, fran.removed_at, fran.in_roster) == ("roster", None, True)


def test_the_engines_plan_holds_the_roster_people(engine: Engine, tmp_path: Path) -> None:
    apply(engine)
    import_roster(engine, tmp_path, ROSTER)

    with Session(engine) as session:
        program = get_program(session=session, name=None)
        plan = load_program_plan(session=session, program=program)

    assert [p.id for p in plan.members("finance")] == ["it.desk", "fran.champion", "e1001"]
    assert plan.person("it.desk").segment == "none"
    assert plan.person("ines.sponsor").segment == "none"  # a sponsor: not a trainee
    assert plan.person("sam.champion").segment == "casual"  # no segment, not an owner
    assert plan.department("finance").headcount == 3  # the roster's, not the plan's 120
