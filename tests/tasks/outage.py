"""A store whose check advances, blocks and holds departments in equal thirds, and a
PostgreSQL connection killed under the check after its first transaction committed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from pilotscale.engine.check import apply_check, prepare_check
from pilotscale.engine.start import rollout_program
from pilotscale.models import Department, Transition
from tests.conftest import PG_MAINTENANCE_URL
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

CHECK = h.day(5)


def thirds(engine: Engine, departments: int, *, program: str | None = None) -> None:
    """Before the day-5 check (failure limit 1), a third of the departments advance
    (preparing, every gate passing), a third are blocked (piloting, weekly activity
    failing) and a third are held (preparing, use cases not attested yet)."""
    names = h.names(departments)
    advance, block, hold = names[0::3], names[1::3], names[2::3]
    data = plan_dict(departments, failure_limit=1)
    if program is not None:
        data["program"]["name"] = program
    h.apply(engine, data)
    assert len(rollout_program(engine=engine, now=h.T0).started) == departments
    h.pass_preparing_in_bulk(engine, block, now=h.day(1))
    prepared = prepare_check(engine=engine, now=h.PILOTING_AT)
    apply_check(engine=engine, prepared=prepared, departments=block)
    for name in block:
        h.observe(engine, name, [0.1, 0.1, 0.1], start=h.day(4))
    h.pass_preparing_in_bulk(engine, advance, now=h.day(4))
    h.pass_preparing_in_bulk(engine, hold, now=h.day(4), attest=False)


def check_moves(engine: Engine) -> list[tuple[str, str, str | None]]:
    """(department, event, run id) of every transition the day-5 check recorded."""
    with Session(engine) as session:
        rows = session.exec(
            select(Department.name, Transition.event, Transition.run_id)
            .join(Department, col(Department.id) == col(Transition.department_id))
            .where(col(Transition.at) == CHECK)
        ).all()
    return [(name, move, run) for name, move, run in rows]


@contextmanager
def connection_killed_after_commit(engine: Engine, *, statements: int = 2) -> Iterator[list[int]]:
    """End the backend of the check's connection `statements` statements into the
    transaction after the first one that recorded transitions committed (the reads and
    writes before the check applies anything are left alone); yields the list the
    killed backend's pid is added to."""
    killed: list[int] = []
    moved, committed = [False], [False]
    seen = [0]

    def on_commit(*_: Any) -> None:
        committed[0] = committed[0] or moved[0]

    def before(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        moved[0] = moved[0] or statement.lstrip().upper().startswith("INSERT INTO TRANSITION ")
        if not committed[0] or killed:
            return
        seen[0] += 1
        if seen[0] < statements:
            return
        pid = connection.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as admin:
            # With a timeout, the call returns once the backend is gone, not when signalled.
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        killed.append(pid)

    event.listen(engine, "commit", on_commit)
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield killed
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", on_commit)
