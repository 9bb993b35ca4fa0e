"""Reading back what a flow run left in the Prefect API: its name, task runs, artifacts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
)
from prefect.client.schemas.objects import Artifact, FlowRun, TaskRun
from prefect.client.schemas.sorting import ArtifactSort, TaskRunSort
from prefect.states import State
from sqlalchemy import Engine

from pilotscale.db import dispose_engines, get_engine
from pilotscale.settings import get_settings


@contextmanager
def store_for_flows(monkeypatch: pytest.MonkeyPatch, directory: Path) -> Iterator[Engine]:
    """Point the flows (`get_engine()`) at a new SQLite store in `directory`."""
    monkeypatch.setenv("PILOTSCALE_DATABASE_URL", f"sqlite:///{directory / 'store.db'}")
    monkeypatch.setenv("PILOTSCALE_DATA_DIR", str(directory / "data"))
    get_settings.cache_clear()
    try:
        yield get_engine()
    finally:
        dispose_engines()
        get_settings.cache_clear()


def flow_run_id(state: State[Any]) -> UUID:
    run_id = state.state_details.flow_run_id
    assert run_id is not None
    return run_id


async def _flow_run(run_id: UUID) -> FlowRun:
    async with get_client() as client:
        return await client.read_flow_run(run_id)


def flow_run(run_id: UUID) -> FlowRun:
    return asyncio.run(_flow_run(run_id))


async def _task_runs(run_id: UUID) -> list[TaskRun]:
    async with get_client() as client:
        return await client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC,
            limit=200,
        )


def task_runs(run_id: UUID, *, settle: float = 3.0) -> list[TaskRun]:
    """The flow run's task runs once they are all recorded as finished: Prefect records
    task runs from events, a moment after the flow run itself has finished."""
    deadline = time.monotonic() + 60
    seen: list[TaskRun] = []
    stable_since = time.monotonic()
    while time.monotonic() < deadline:
        runs = asyncio.run(_task_runs(run_id))
        if [r.id for r in runs] != [r.id for r in seen] or any(
            r.state is None or not r.state.is_final() for r in runs
        ):
            seen, stable_since = runs, time.monotonic()
        elif time.monotonic() - stable_since >= settle:
            return seen
        time.sleep(0.25)
    raise AssertionError(f"task runs of {run_id} did not settle: {[r.name for r in seen]}")


async def _artifacts(run_id: UUID) -> list[Artifact]:
    async with get_client() as client:
        return await client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])),
            flow_run_filter=FlowRunFilter(),
            task_run_filter=TaskRunFilter(),
            sort=ArtifactSort.CREATED_DESC,
            limit=50,
        )


def artifacts(run_id: UUID) -> dict[str, Artifact]:
    """The flow run's artifacts by type ('table', 'progress', ...)."""
    return {str(a.type): a for a in asyncio.run(_artifacts(run_id))}
