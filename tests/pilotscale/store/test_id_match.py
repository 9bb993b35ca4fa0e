"""`store.id_match.id_in` selects exactly the rows a plain `IN` list selects, on SQLite and
PostgreSQL, for lists empty, repeated, unordered, with unknown ids and longer than any
store holds; and on PostgreSQL it sends the list as one parameter, whatever its length."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, select
from sqlmodel import Session

from pilotscale.models import Department
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of
from tests.pilotscale.engine import helpers as h

CASES = [
    pytest.param(lambda ids: [], id="empty"),
    pytest.param(lambda ids: ids[:1], id="one"),
    pytest.param(lambda ids: ids[::-1] + ids[:2], id="unordered, repeated"),
    pytest.param(lambda ids: [*ids[1::2], 10**6, -1], id="some, and unknown ids"),
    pytest.param(lambda ids: list(range(-5, 5000)), id="5,005 ids"),
    pytest.param(lambda ids: iter(ids), id="an iterator"),
]


@pytest.mark.parametrize("ids_of", CASES)
def test_the_same_rows_as_an_in_list(engine: Engine, ids_of) -> None:  # type: ignore[no-untyped-def]
    h.apply(engine)
    d = columns_of(Department)
    with Session(engine) as session:
        stored = sorted(session.scalars(select(d.id)))
        assert len(stored) >= 3
        wanted = list(ids_of(stored))
        found = sorted(session.scalars(select(d.id).where(id_in(session, d.id, iter(wanted)))))
        plain = sorted(session.scalars(select(d.id).where(d.id.in_(wanted))))
    assert found == plain == sorted(set(stored) & set(wanted))


def test_postgresql_gets_the_list_as_one_parameter(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no arrays: there the list stays a list")
    h.apply(engine)
    d = columns_of(Department)
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as session:
            rows = session.scalars(select(d.id).where(id_in(session, d.id, range(3000)))).all()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert rows
    statement, parameters = sent[-1]
    assert "ANY" in statement.upper()
    assert isinstance(parameters, dict)
    assert list(parameters.values()) == [list(range(3000))]
