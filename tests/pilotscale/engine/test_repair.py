"""A readiness check killed at any point is repaired by the next run.

The kill is simulated in-process: the n-th SQL statement of the check raises (the
transaction it was part of is lost, as when a process dies before COMMIT), or the
check is stopped after some departments were committed. Then the check runs again,
either from scratch or as a Prefect task retry (the same decisions, applied again).
For every n the store must end up exactly as one uninterrupted check leaves it: every
outbox row there, none twice. (A real SIGKILL harness lives with the reliability tests.)
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event

from pilotscale.db import _create_engine, dispose_engines, get_engine, normalize_url
from pilotscale.engine.check import apply_check, prepare_check, run_readiness_check
from tests.conftest import PG_MAINTENANCE_URL
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

CHECK = h.day(10)
NAMES = h.names(4)
# Two transactions of two departments: a kill in the second finds the first committed.
BATCH = 2


class Killed(Exception):
    """Stands for the process dying at this statement."""


def story(engine: Engine) -> None:
    """Four departments before the day-10 check: d001 advances to scaling (entry actions,
    success stories); d002 advances to piloting (training); d003 is held in piloting with
    a failing metric and a pending approval; d004 is held in preparing."""
    h.apply(engine, plan_dict(len(NAMES)))
    h.start(engine, NAMES)
    for name in ("d001", "d003"):
        h.prepare_passes(engine, name, now=h.day(1))
    run_readiness_check(engine=engine, now=h.PILOTING_AT)
    h.pilot_passes(engine, "d001", now=h.day(9))
    h.observe(engine, "d003", [0.1, 0.1, 0.1], start=h.day(9))
    h.prepare_passes(engine, "d002", now=h.day(9))


class Stores:
    """Fresh copies of one prepared store: a SQLite file copy or a PostgreSQL template."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.tmp_path = tmp_path
        self.created: list[str] = []
        story(get_engine(url))
        dispose_engines()  # PostgreSQL copies a template only when nobody is connected

    def fresh(self) -> str:
        self.drop()  # the previous copy is done with: keep at most one around
        name = f"copy_{uuid.uuid4().hex[:10]}"
        if self.url.startswith("sqlite"):
            source = Path(normalize_url(self.url).database or "")
            target = self.tmp_path / name / "store.db"
            target.parent.mkdir()
            shutil.copy(source, target)
            return f"sqlite:///{target}"
        template = normalize_url(self.url).database
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self.created.append(name)
        return str(normalize_url(self.url).set(database=name).render_as_string(False))

    def drop(self) -> None:
        if not self.created:
            return
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            for name in self.created:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture
def stores(store_url: str, tmp_path: Path) -> Iterator[Stores]:
    stores = Stores(store_url, tmp_path)
    yield stores
    dispose_engines()
    stores.drop()


@contextmanager
def engine_at(url: str) -> Iterator[Engine]:
    engine = _create_engine(normalize_url(url))
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def killed_at(engine: Engine, statement: int) -> Iterator[list[int]]:
    """Raise Killed at the `statement`-th statement (0-based) run on `engine`; yields a
    one-item list with the number of statements run so far."""
    seen = [0]

    def before(*_: Any) -> None:
        if seen[0] == statement:
            raise Killed(f"killed at statement {statement}")
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def statements_of_one_check(stores: Stores) -> tuple[int, dict[str, Any]]:
    """How many statements an uninterrupted apply runs, and the store it leaves."""
    with engine_at(stores.fresh()) as engine:
        prepared = prepare_check(engine=engine, now=CHECK)
        with killed_at(engine, -1) as seen:
            apply_check(engine=engine, prepared=prepared, batch=BATCH)
        return seen[0], h.store_state(engine)


Rerun = Callable[[Engine, Any], None]


def from_scratch(engine: Engine, prepared: Any) -> None:
    run_readiness_check(engine=engine, now=CHECK)


def as_a_task_retry(engine: Engine, prepared: Any) -> None:
    apply_check(engine=engine, prepared=prepared, batch=BATCH)


RERUNS = {"rerun-from-scratch": from_scratch, "task-retry": as_a_task_retry}


def test_the_story_exercises_every_kind_of_decision(stores: Stores) -> None:
    with engine_at(stores.fresh()) as engine:
        decisions = prepare_check(engine=engine, now=CHECK).decisions
    assert {d.department: str(d.action) for d in decisions} == {
        "d001": "advance",
        "d002": "advance",
        "d003": "hold",
        "d004": "hold",
    }


def spread(stores: Stores, count: int, *, thorough: bool) -> list[int]:
    """Which of `count` kill points to try: all of them in the slow tests; a spread in
    the fast ones, one in the middle on PostgreSQL, where each copy is a new database."""
    if thorough:
        return list(range(count))
    if stores.url.startswith("sqlite"):
        return list(range(0, count, 3))
    return [count // 2]


def killed_and_rerun(stores: Stores, rerun: Rerun, *, thorough: bool) -> None:
    total, expected = statements_of_one_check(stores)
    # The story is rich enough to kill it in many places (a batch writes one statement per
    # table, so fewer than one per department and table: 15 on PostgreSQL for these 4).
    assert total >= 3 * len(NAMES)
    for statement in spread(stores, total, thorough=thorough):
        with engine_at(stores.fresh()) as engine:
            prepared = prepare_check(engine=engine, now=CHECK)
            with killed_at(engine, statement), pytest.raises(Killed):
                apply_check(engine=engine, prepared=prepared, batch=BATCH)
            rerun(engine, prepared)
            assert h.store_state(engine) == expected, f"killed at statement {statement}"


def stopped_and_rerun(stores: Stores, *, thorough: bool) -> None:
    _, expected = statements_of_one_check(stores)
    for done in spread(stores, len(NAMES) + 1, thorough=thorough):
        with engine_at(stores.fresh()) as engine:
            prepared = prepare_check(engine=engine, now=CHECK)
            apply_check(engine=engine, prepared=prepared, departments=NAMES[:done])
            run_readiness_check(engine=engine, now=CHECK)
            assert h.store_state(engine) == expected, f"stopped after {done} departments"


@pytest.mark.parametrize("rerun", RERUNS.values(), ids=RERUNS.keys())
def test_a_check_killed_at_a_statement_is_repaired_by_the_next_run(
    stores: Stores, rerun: Rerun
) -> None:
    killed_and_rerun(stores, rerun, thorough=False)


def test_a_check_stopped_between_departments_is_repaired(stores: Stores) -> None:
    stopped_and_rerun(stores, thorough=False)


@pytest.mark.slow
@pytest.mark.parametrize("rerun", RERUNS.values(), ids=RERUNS.keys())
def test_a_check_killed_at_any_statement_is_repaired_by_the_next_run(
    stores: Stores, rerun: Rerun
) -> None:
    killed_and_rerun(stores, rerun, thorough=True)


@pytest.mark.slow
def test_a_check_stopped_after_any_department_is_repaired(stores: Stores) -> None:
    stopped_and_rerun(stores, thorough=True)


def test_running_a_finished_check_again_changes_nothing(stores: Stores) -> None:
    _, expected = statements_of_one_check(stores)
    with engine_at(stores.fresh()) as engine:
        for _ in range(3):
            run_readiness_check(engine=engine, now=CHECK)
        assert h.store_state(engine) == expected
