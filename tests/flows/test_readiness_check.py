"""The `readiness-check` flow under Prefect: what it does, what it shows, what it costs."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from pilotscale.engine.start import rollout_program
from pilotscale.flows.readiness_check import readiness_check
from pilotscale.report.data import read_report
from pilotscale.report.markdown import render_markdown
from tests.flows.prefect_api import (
    artifacts,
    flow_run,
    flow_run_id,
    store_for_flows,
    task_runs,
)
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run_check(**parameters: Any) -> tuple[Any, dict[str, Any]]:
    state: Any = asyncio.run(readiness_check(return_state=True, **parameters))  # type: ignore[arg-type]
    assert state.is_completed(), state
    return flow_run_id(state), state.result()


def test_a_check_advances_holds_and_says_so(configured_store: Engine, tmp_path: Path) -> None:
    h.into_piloting(configured_store, plan_dict(3))  # d001 piloting; d002, d003 planned
    h.pilot_passes(configured_store, "d001", now=h.day(10))
    h.start(configured_store, ["d002"], now=h.day(9))

    run_id, result = run_check(as_of=h.day(10))

    assert result["decisions"] == {"d001": "advance", "d002": "hold", "d003": "skip"}
    assert h.states(configured_store)["d001"] == ("scaling", "active")
    assert flow_run(run_id).name == "readiness-check 2026-11-12: 1 advanced, 1 held"
    # The transition records the flow run that made it.
    assert h.transitions(configured_store, "d001")[-1].run_id == str(run_id)
    # What was queued went out at the end of the run (no channel: the local folder).
    assert {n.status for n in h.outbox(configured_store)} == {"sent"}
    assert any((tmp_path / "data" / "outbox").iterdir())

    shown = artifacts(run_id)
    table = shown["table"]
    assert table.key == "test-program-readiness"
    rows: list[dict[str, str]] = json.loads(str(table.data))
    by_gate = {(r["department"], r["gate"]): r for r in rows}
    assert by_gate[("d001", "weekly-active")]["outcome"] == "pass"
    assert by_gate[("d001", "weekly-active")]["action"] == "advance"
    assert by_gate[("d002", "use-cases")]["outcome"] == "pending"
    assert "not attested yet" in by_gate[("d002", "use-cases")]["reason"]
    assert ("d003", "") in by_gate  # skipped departments are listed, with the reason
    progress = shown["progress"]
    assert progress.key == "test-program-operating"
    assert progress.description == "0 of 3 departments operating"
    # The summary, built from the facts the check read, is the report read afresh after it.
    after = read_report(engine=configured_store, program=None, now=h.day(10))
    assert shown["markdown"].data == render_markdown(after)


def test_running_the_same_check_again_sends_nothing_twice(configured_store: Engine) -> None:
    h.into_piloting(configured_store, plan_dict(2))
    h.start(configured_store, ["d002"], now=h.day(9))
    h.pilot_passes(configured_store, "d001", now=h.day(10))

    run_check(as_of=h.day(10))
    before = h.store_state(configured_store)
    run_id, result = run_check(as_of=h.day(10))

    assert result["decisions"] == {"d001": "skip", "d002": "hold"}
    assert result["enqueued"] == 0
    assert h.store_state(configured_store) == before
    assert flow_run(run_id).name == "readiness-check 2026-11-12: 0 advanced, 1 held"


def _check_many(
    departments: int, monkeypatch: pytest.MonkeyPatch, directory: Path
) -> tuple[list[str], float, dict[str, int]]:
    """Task run names of one check over `departments` departments (half advance, half
    are held), how long the flow run took, and its tally."""
    with store_for_flows(monkeypatch, directory) as engine:
        h.apply(engine, plan_dict(departments))
        started = rollout_program(engine=engine, now=h.T0)
        assert len(started.started) == departments
        h.pass_preparing_in_bulk(engine, h.names(departments)[::2], now=h.day(1))
        clock = time.perf_counter()
        run_id, result = run_check(as_of=h.PILOTING_AT)
        seconds = time.perf_counter() - clock
        return [r.name.rsplit("-", 1)[0] for r in task_runs(run_id)], seconds, result["tally"]


@pytest.mark.slow
def test_task_runs_per_check_do_not_grow_with_departments(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    small, small_seconds, small_tally = _check_many(10, monkeypatch, tmp_path / "small")
    large, large_seconds, large_tally = _check_many(200, monkeypatch, tmp_path / "large")

    assert (small_tally["advance"], small_tally["hold"]) == (5, 5)
    assert (large_tally["advance"], large_tally["hold"]) == (100, 100)
    assert Counter(large) == Counter(small)
    assert len(small) <= 10  # a handful of bulk tasks, never one per department or gate
    print(  # the numbers for the report (pytest -s)
        f"\ntask runs per check: {len(small)} ({', '.join(small)}); "
        f"10 departments: {small_seconds:.1f}s, 200 departments: {large_seconds:.1f}s"
    )
