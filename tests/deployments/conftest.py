"""A real Prefect server (`prefect server start`) on loopback, shared by the slow tests.

Its own database is PostgreSQL (a fresh database, dropped at the end), as in the team
setup of docs/operations.md; where PostgreSQL is down on a developer machine it falls
back to SQLite in its own PREFECT_HOME, so the SQLite half of the tests still runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pilotscale.deployments.local_server import LocalServer, start_local_server
from tests.deployments.helpers import prefect_database
from tests.notifications.receivers import SmtpServer, free_port


@contextmanager
def started_server(home: Path) -> Iterator[LocalServer]:
    """A real server with its database and log under `home`, stopped at the end, also
    when a test fails. Deployment slots are re-checked every second instead of every
    30, so a queued run does not sit idle for the test."""
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    with prefect_database() as database:
        server = start_local_server(
            port=free_port(), env={**env, **database}, log=home / "server.log"
        )
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    with started_server(tmp_path_factory.mktemp("prefect-home")) as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
