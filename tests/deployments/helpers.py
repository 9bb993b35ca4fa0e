"""Real processes for the deployment tests: the pilotscale CLI, Prefect workers, waiting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import psycopg

from tests.cli import run_cli
from tests.conftest import PG_HOST, PG_MAINTENANCE_URL, PG_PORT, _postgres_reachable

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")

# Variables a developer's shell may carry that would point a child at the wrong place.
_INHERITED_OUT = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_PROFILE")


def child_env(**values: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _INHERITED_OUT and not k.startswith("PILOTSCALE_")
    }
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(values)
    return env


def pilotscale(
    *args: str, env: Mapping[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the `pilotscale` command in its own process, as a person at a terminal would."""
    return run_cli(*args, env=env, cwd=REPO, timeout=timeout)


@contextmanager
def background(
    command: list[str], *, env: Mapping[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` running in its own process group for the block; stopped (SIGINT, then
    SIGKILL) when the block ends, also when it fails."""
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            env=dict(env),
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop_group(process)


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def worker(
    pool: str, *, env: Mapping[str, str], log: Path
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`prefect worker start --pool POOL`, polling every second."""
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool]
    return background(command, env={**env, "PREFECT_WORKER_QUERY_SECONDS": "1"}, log=log)


def wait_for(probe: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.5) -> T:
    """The first truthy value of `probe()`, or a failure naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


@contextmanager
def prefect_database() -> Iterator[dict[str, str]]:
    """Settings giving a Prefect server a fresh PostgreSQL database of its own (dropped
    afterwards); none (its SQLite default) when PostgreSQL is down."""
    if not _postgres_reachable():
        yield {}
        return
    database = f"prefect_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield {
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": (
                f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{database}"
            )
        }
    finally:
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
