"""Fixtures shared by every test folder: a real, empty store on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from pilotscale.db import dispose_engines, get_engine

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_MAINTENANCE_URL = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    """Skip when PostgreSQL is down on a developer machine; in CI that is a failure."""
    if _postgres_reachable():
        return
    message = f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}, and CI is set: the PostgreSQL tests must run in CI")
    pytest.skip(message)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty store: a SQLite file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'pilotscale.db'}"
        dispose_engines()
        return
    require_postgres()
    name = f"pilotscale_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        dispose_engines()
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(store_url: str) -> Engine:
    """The migrated store at `store_url`."""
    return get_engine(store_url)


# --------------------------------------------------------------------------- Prefect


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect API for the whole session, for the tests that ask for it
    (starting one takes ~20 s; tests that do not need Prefect never pay for it)."""
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def configured_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A SQLite store that `get_engine()` (and so every flow and task) uses, with the data
    directory (the local notification folder) in tmp_path."""
    from pilotscale.settings import get_settings

    url = f"sqlite:///{tmp_path / 'store' / 'pilotscale.db'}"
    monkeypatch.setenv("PILOTSCALE_DATABASE_URL", url)
    monkeypatch.setenv("PILOTSCALE_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        yield get_engine()
    finally:
        dispose_engines()
        get_settings.cache_clear()
