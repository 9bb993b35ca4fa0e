"""Finding programs and departments by name, with errors that say what does exist."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.db import session_scope
from pilotscale.store.apply import apply_plan
from pilotscale.store.queries import NotFound, get_department, get_program, list_departments
from tests.pilotscale.store.helpers import NOW, PLAN, edit, load


def _apply(engine: Engine, text: str = PLAN) -> None:
    with session_scope(engine=engine) as session:
        apply_plan(session=session, loaded=load(text), now=NOW, actor="leo.lead")


def test_no_program_yet(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(LookupError, match="apply a plan first"):
        get_program(session=session, name=None)


def test_the_only_program_needs_no_name(engine: Engine) -> None:
    _apply(engine)
    with Session(engine) as session:
        assert get_program(session=session, name=None).name == "helpdesk-bot"


def test_several_programs_need_a_name(engine: Engine) -> None:
    _apply(engine)
    _apply(engine, edit(PLAN, "name: helpdesk-bot", "name: sales-copilot"))

    with Session(engine) as session:
        with pytest.raises(LookupError) as info:
            get_program(session=session, name=None)
        assert get_program(session=session, name="sales-copilot").name == "sales-copilot"
    assert "several programs (helpdesk-bot, sales-copilot)" in str(info.value)


def test_unknown_names_list_the_known_ones(engine: Engine) -> None:
    _apply(engine)
    with Session(engine) as session:
        with pytest.raises(NotFound) as program_info:
            get_program(session=session, name="helpdesk")
        program = get_program(session=session, name=None)
        assert program.id is not None
        with pytest.raises(NotFound) as department_info:
            get_department(session=session, program_id=program.id, name="finanse")

    assert str(program_info.value) == "unknown program 'helpdesk' (known: helpdesk-bot)"
    assert department_info.value.known == ["finance", "legal", "support"]
    assert (department_info.value.kind, department_info.value.name) == ("department", "finanse")


def test_departments_come_in_wave_order(engine: Engine) -> None:
    _apply(engine)
    with Session(engine) as session:
        program = get_program(session=session, name=None)
        assert program.id is not None
        names = [d.name for d in list_departments(session=session, program_id=program.id)]
    assert names == ["support", "finance", "legal"]
