"""The plan `status` and `report` read: the stored plan, less the people who own no gate."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy import text as sql
from sqlmodel import Session

from pilotscale.store.apply import apply_plan
from pilotscale.store.ownerplan import forget_owners_plans, load_owners_plan, owner_ids
from pilotscale.store.queries import (
    forget_parsed_plans,
    get_program,
    load_program_plan,
    parse_plan_json,
)
from tests.pilotscale.store.helpers import NOW, PLAN, edit, load

# JSON's own characters and a non-ASCII one in a name: the plan is taken apart as JSON text.
NAME = 'IT "Desk" \\ Ω'


def test_the_views_plan_is_the_stored_plan_less_the_people_who_own_no_gate(
    engine: Engine,
) -> None:
    text = edit(PLAN, "{id: it.desk, name: IT Desk,", '{id: it.desk, name: "IT \\"Desk\\" \\\\ Ω",')
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=load(text), now=NOW, actor="test")
    forget_owners_plans()
    forget_parsed_plans()

    with Session(engine) as session:
        program = get_program(session=session, name=None)
        lean = load_owners_plan(session=session, program=program)
        full = load_program_plan(session=session, program=program, people=False)

    # The lead owns go-ahead, and legal's vacant adoption role; IT Desk owns the others;
    # Ines approves go-ahead (a rejection names who rejected).
    assert [p.id for p in lean.people] == ["ines.sponsor", "leo.lead", "it.desk"]
    assert owner_ids(full) == {"ines.sponsor", "leo.lead", "it.desk"}
    assert lean.person("it.desk").name == NAME
    assert lean.model_copy(update={"people": []}) == full.model_copy(update={"people": []})
    assert list(lean.people) == [p for p in full.people if p.id in owner_ids(full)]
    with pytest.raises(KeyError):  # left out, not made up
        lean.person("sam.champion")


def test_the_owners_plan_apply_stores_equals_the_one_taken_apart_from_the_whole_plan(
    engine: Engine,
) -> None:
    text = edit(PLAN, "{id: it.desk, name: IT Desk,", '{id: it.desk, name: "IT \\"Desk\\" \\\\ Ω",')
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=load(text), now=NOW, actor="test")
    forget_owners_plans()
    with Session(engine) as session:
        stored = load_owners_plan(session=session, program=get_program(session=session, name=None))
    # A store applied before 0005 has none: read from the whole plan, the same plan.
    with engine.begin() as connection:
        connection.execute(sql("UPDATE program SET owners_plan_json = NULL"))
    forget_owners_plans()
    with Session(engine) as session:
        taken_apart = load_owners_plan(
            session=session, program=get_program(session=session, name=None)
        )
    assert [p.id for p in stored.people] == ["ines.sponsor", "leo.lead", "it.desk"]
    assert stored == taken_apart
    # Applying the same plan again fills it in.
    with Session(engine) as session, session.begin():
        assert apply_plan(session=session, loaded=load(text), now=NOW, actor="test").unchanged
    with engine.connect() as connection:
        filled = connection.execute(sql("SELECT owners_plan_json FROM program")).scalar_one()
    assert filled is not None
    assert parse_plan_json(filled) == stored
