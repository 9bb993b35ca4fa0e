"""A real Prefect server (`prefect server start`) on loopback, shared by the slow tests.

Its own database is PostgreSQL (a fresh database, dropped at the end), as in the team
setup of docs/operations.md; where PostgreSQL is down on a developer machine it falls
back to SQLite in its own PREFECT_HOME, so the SQLite half of the tests still runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from deployments.local_server import LocalServer, start_local_server
from tests.conftest import PG_HOST, PG_MAINTENANCE_URL, PG_PORT, _postgres_reachable
from tests.notifications.receivers import SmtpServer, free_port


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """Stopped at the end, also when a test fails. Deployment slots are re-checked every
    second instead of every 30, so a queued run does not sit idle for the test."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = {
        "PREFECT_HOME": str(home),
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    database = f"prefect_test_{uuid.uuid4().hex[:12]}" if _postgres_reachable() else None
    if database is not None:
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{database}"')
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = (
            f"postgresql+asyncpg://postgres@{PG_HOST}:{PG_PORT}/{database}"
        )
    try:
        server = start_local_server(port=free_port(), env=env, log=home / "server.log")
        try:
            yield server
        finally:
            server.stop()
    finally:
        if database is not None:
            with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
