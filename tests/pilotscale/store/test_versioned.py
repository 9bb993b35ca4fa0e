"""Optimistic concurrency: of two writers that read the same version, exactly one wins."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.models import Department
from pilotscale.store.versioned import update_department
from tests.models.helpers import NOW, make_department


def test_the_second_writer_of_a_version_loses(engine: Engine) -> None:
    department_id = make_department(engine).id
    assert department_id is not None
    first, second = Session(engine), Session(engine)
    try:
        seen_first = first.get(Department, department_id)
        seen_second = second.get(Department, department_id)
        assert seen_first is not None
        assert seen_second is not None
        assert seen_first.version == seen_second.version == 1

        won_first = update_department(
            session=first,
            department_id=department_id,
            expected_version=seen_first.version,
            values={"phase": "piloting"},
            now=NOW,
        )
        first.commit()
        won_second = update_department(
            session=second,
            department_id=department_id,
            expected_version=seen_second.version,
            values={"status": "paused"},
            now=NOW,
        )
        second.commit()
    finally:
        first.close()
        second.close()

    assert (won_first, won_second) == (True, False)
    with Session(engine) as session:
        row = session.get(Department, department_id)
        assert row is not None
        assert (row.phase, row.status, row.version) == ("piloting", "active", 2)


def test_racing_threads_exactly_one_wins(engine: Engine) -> None:
    department_id = make_department(engine).id
    assert department_id is not None
    racers = 4
    loaded = threading.Barrier(racers)
    wins: list[int] = []
    errors: list[BaseException] = []

    def race(n: int) -> None:
        try:
            with Session(engine) as session:
                row = session.get(Department, department_id)
                assert row is not None
                version = row.version
                session.commit()  # end the read: every racer now holds version 1
                loaded.wait()
                if update_department(
                    session=session,
                    department_id=department_id,
                    expected_version=version,
                    values={"consecutive_failures": n},
                    now=NOW + timedelta(minutes=n),
                ):
                    wins.append(n)
                session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(1, racers + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(wins) == 1
    with Session(engine) as session:
        row = session.get(Department, department_id)
        assert row is not None
        assert row.version == 2
        assert row.consecutive_failures == wins[0]
        assert row.updated_at == NOW + timedelta(minutes=wins[0])
