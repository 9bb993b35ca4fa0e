"""A real Prefect server (`prefect server start`) on loopback, shared by the slow tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deployments.local_server import LocalServer, start_local_server
from tests.notifications.receivers import SmtpServer, free_port


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """Its own PREFECT_HOME (so its own SQLite database); stopped at the end, also when a
    test fails. Deployment slots are re-checked every second instead of every 30."""
    home = tmp_path_factory.mktemp("prefect-home")
    server = start_local_server(
        port=free_port(),
        env={
            "PREFECT_HOME": str(home),
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS": "1",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        },
        log=home / "server.log",
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
