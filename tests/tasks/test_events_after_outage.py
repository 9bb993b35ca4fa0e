"""A check whose PostgreSQL connection is killed mid-apply, then retried with the same
decisions as Prefect's task retry does: every transition it committed is announced
exactly once, and its summary counts what the store holds.

The kill is real: another connection ends the check's backend (pg_terminate_backend)
between two of its statements, after its first batch committed.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from pilotscale.engine.check import CheckReport, apply_check, prepare_check
from pilotscale.tasks.prefect_events import events_for
from tests.tasks.outage import CHECK, check_moves, connection_killed_after_commit, thirds

RUN = "5b7e0c1a-0000-4000-8000-000000000001"  # the flow run: the same for each attempt
DEPARTMENTS = 30
BATCH = 10  # three transactions: the kill comes after the first one committed
NAMES = {"advance": "advanced", "block": "blocked"}

postgres_only = pytest.mark.parametrize("store_url", ["postgres"], indirect=True)


def retried_after_outage(engine: Engine) -> CheckReport:
    prepared = prepare_check(engine=engine, now=CHECK)
    with connection_killed_after_commit(engine) as killed, pytest.raises(OperationalError):
        apply_check(engine=engine, prepared=prepared, run_id=RUN, batch=BATCH)
    assert killed, "the check's connection was never killed"
    return apply_check(engine=engine, prepared=prepared, run_id=RUN, batch=BATCH)


@postgres_only
def test_a_retried_check_announces_each_transition_it_committed_once(engine: Engine) -> None:
    thirds(engine, DEPARTMENTS)

    report = retried_after_outage(engine)

    moves = check_moves(engine)
    assert {run for _, _, run in moves} == {RUN}
    assert Counter(move for _, move, _ in moves) == {"advance": 10, "block": 10}
    announced = [e for e in events_for(report) if not e.event.endswith(".held")]
    # One to one: each transition of the check has its event, with an id of its own.
    assert sorted((e.resource["pilotscale.department"], e.event) for e in announced) == sorted(
        (department, f"pilotscale.department.{NAMES[move]}") for department, move, _ in moves
    )
    assert len({e.id for e in announced}) == len(moves)


@postgres_only
def test_a_retried_check_counts_what_the_store_holds(engine: Engine) -> None:
    thirds(engine, DEPARTMENTS)

    report = retried_after_outage(engine)

    moves = Counter(move for _, move, _ in check_moves(engine))
    assert report.conflicts == []
    assert report.tally()["advance"] == moves["advance"] == 10
    assert report.tally()["block"] == moves["block"] == 10
    assert report.tally()["hold"] == 10
    assert report.summary() == "10 advanced, 10 held, 10 blocked"
    held = [e for e in events_for(report) if e.event.endswith(".held")]
    assert len(held) == 10
