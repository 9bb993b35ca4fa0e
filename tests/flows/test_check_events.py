"""The events a `readiness-check` flow run leaves in Prefect, read back from the server:
one per transition even when the store went away mid-apply and Prefect retried the
task, and none sent twice when the check runs again."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.events import ReceivedEvent
from prefect.events.filters import EventFilter, EventRelatedFilter
from sqlalchemy import Engine

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.check import run_readiness_check
from pilotscale.flows.readiness_check import readiness_check
from pilotscale.settings import get_settings
from pilotscale.tasks.prefect_events import program_resource_id
from tests.flows.prefect_api import flow_run, flow_run_id
from tests.tasks.outage import CHECK, check_moves, connection_killed_after_commit, thirds

pytestmark = pytest.mark.usefixtures("prefect_harness")

NAMES = {"advance": "advanced", "block": "blocked", "hold": "held"}


def unique_program() -> str:
    # One Prefect server serves the whole session: events of other tests stay apart.
    return f"events-{uuid.uuid4().hex[:8]}"


def run_check(**parameters: Any) -> tuple[uuid.UUID, dict[str, Any]]:
    state: Any = asyncio.run(readiness_check(return_state=True, dispatch=False, **parameters))  # type: ignore[arg-type]
    assert state.is_completed(), state
    return flow_run_id(state), state.result()


async def _events(program: str) -> list[ReceivedEvent]:
    related = EventRelatedFilter(id=[program_resource_id(program)])
    async with get_client() as client:
        page = await client.read_events(filter=EventFilter(related=related), limit=50)
        found = list(page.events)
        while page.next_page is not None:
            page = await client.read_events_page(str(page.next_page))
            found += page.events
    return found


def recorded(program: str, *, expected: int) -> list[ReceivedEvent]:
    """The program's events once the server holds `expected` of them, and then one more
    flush interval of the server's event writer (5 s) with no more arriving."""
    deadline = time.monotonic() + 90
    while True:
        found = asyncio.run(_events(program))
        if len(found) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    time.sleep(6)
    return asyncio.run(_events(program))


@pytest.fixture
def postgres_store(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    """The PostgreSQL store the flows use (`get_engine()`)."""
    monkeypatch.setenv("PILOTSCALE_DATABASE_URL", store_url)
    monkeypatch.setenv("PILOTSCALE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        yield get_engine()
    finally:
        dispose_engines()
        get_settings.cache_clear()


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_a_check_whose_connection_died_mid_apply_has_one_event_per_transition(
    postgres_store: Engine,
) -> None:
    """250 departments, so the check applies three batches; the connection dies in the
    second, Prefect retries the task, and the flow run completes."""
    program = unique_program()
    thirds(postgres_store, 250, program=program)

    with connection_killed_after_commit(postgres_store) as killed:
        run_id, result = run_check(as_of=CHECK)

    assert killed, "the check's connection was never killed"
    moves = check_moves(postgres_store)
    assert {run for _, _, run in moves} == {str(run_id)}
    held = sum(1 for action in result["decisions"].values() if action == "hold")
    events = recorded(program, expected=len(moves) + held)
    transitions = Counter((department, NAMES[move]) for department, move, _ in moves)
    announced = Counter(
        (e.resource["pilotscale.department"], e.event.rsplit(".", 1)[1])
        for e in events
        if not e.event.endswith(".held")
    )
    assert announced == transitions  # one to one
    assert set(announced.values()) == {1}
    assert Counter(e.event.rsplit(".", 1)[1] for e in events) == {
        "advanced": 84,
        "blocked": 83,
        "held": 83,
    }
    # The summary counts what the store holds, not what the retry alone applied.
    assert result["tally"]["advance"] == 84
    assert result["tally"]["block"] == 83
    assert result["conflicts"] == []
    assert flow_run(run_id).name.endswith(": 84 advanced, 83 held, 83 blocked")


def test_running_a_check_again_sends_nothing_prefect_has(
    configured_store: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """25 departments held, 25 advanced and 25 blocked. Sent again, the 25 holds would
    make a batch of nothing but events Prefect holds, which its SQLite event writer
    fails on, with a traceback."""
    program = unique_program()
    thirds(configured_store, 75, program=program)
    _, first = run_check(as_of=CHECK)
    assert first["events"] == 75
    before = recorded(program, expected=75)

    with caplog.at_level(logging.INFO):
        _, again = run_check(as_of=CHECK)

    assert again["events"] == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    after = recorded(program, expected=75)
    assert Counter(e.id for e in after) == Counter(e.id for e in before)
    assert len(after) == 75


def test_events_of_a_run_that_died_after_applying_are_sent_by_the_next(
    configured_store: Engine,
) -> None:
    """The first run applied its decisions and died before announcing them (applied
    here without Prefect); the next run of the same check announces them, once."""
    program = unique_program()
    thirds(configured_store, 9, program=program)
    run_readiness_check(engine=configured_store, now=CHECK, run_id="died-after-applying")

    _, result = run_check(as_of=CHECK)

    assert result["tally"]["advance"] == result["tally"]["block"] == 0
    events = recorded(program, expected=9)
    assert Counter(e.event.rsplit(".", 1)[1] for e in events) == {
        "advanced": 3,
        "blocked": 3,
        "held": 3,
    }
    moves = {(department, NAMES[move]) for department, move, _ in check_moves(configured_store)}
    assert {
        (e.resource["pilotscale.department"], e.event.rsplit(".", 1)[1])
        for e in events
        if not e.event.endswith(".held")
    } == moves
