"""The plan `status` and `report` read: the stored plan, less the people who own no gate."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.store.apply import apply_plan
from pilotscale.store.ownerplan import forget_owners_plans, load_owners_plan, owner_ids
from pilotscale.store.queries import forget_parsed_plans, get_program, load_program_plan
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
