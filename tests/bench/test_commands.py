"""What `python -m bench.commands` times, guarded without a clock: `status`, `status --json`
and `report` read the store in as many SQL statements at four times the departments (a
query per department, as the report's forecasts made, fails this), and `status` starts
without Prefect, Alembic or matplotlib. Slow: it generates two stores per database."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event

from bench.commands import AS_OF
from bench.generate import NOW, generate
from pilotscale.db import get_engine
from pilotscale.engine.check import run_readiness_check
from pilotscale.settings import get_settings
from pilotscale.store.ownerplan import forget_owners_plans
from pilotscale.store.queries import forget_parsed_plans
from tests.cli import run_cli_here
from tests.conftest import PG_HOST, PG_MAINTENANCE_URL, PG_PORT

pytestmark = pytest.mark.slow

SMALL, LARGE = 12, 48
COMMANDS = {
    "status": ["status"],
    "status --json": ["status", "--json"],
    "report": ["report", "--out", "{out}"],
}


@pytest.fixture
def small_store_url(store_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty store beside `store_url`, on the same kind of database."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'small' / 'pilotscale.db'}"
        return
    name = f"pilotscale_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _build(url: str, departments: int) -> Engine:
    """The benchmark's store at this size, after one readiness check (so it also holds
    transitions, gate results and queued messages), as `bench.commands` builds it."""
    engine = get_engine(url)
    generate(engine=engine, departments=departments)
    run_readiness_check(engine=engine, now=NOW)
    return engine


def _statements(
    engine: Engine, url: str, monkeypatch: pytest.MonkeyPatch, out: Path
) -> dict[str, int]:
    """SQL statements each command sends, read cold (no plan parsed yet in this process)."""
    monkeypatch.setenv("PILOTSCALE_DATABASE_URL", url)
    get_settings.cache_clear()
    counted: dict[str, int] = {}
    current = [""]

    def count(*_: Any) -> None:
        counted[current[0]] = counted.get(current[0], 0) + 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        for name, words in COMMANDS.items():
            forget_parsed_plans()
            forget_owners_plans()
            current[0] = name
            args = [w.format(out=out / "report.html") for w in words]
            ran = run_cli_here(*args, "--as-of", AS_OF)
            assert ran.returncode == 0, ran.stderr
            if name == "status --json":
                assert len(json.loads(ran.stdout)["departments"]) > 0
    finally:
        event.remove(engine, "before_cursor_execute", count)
        get_settings.cache_clear()
    return counted


def test_the_read_commands_issue_as_many_statements_at_four_times_the_departments(
    store_url: str, small_store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = _statements(_build(small_store_url, SMALL), small_store_url, monkeypatch, tmp_path)
    large = _statements(_build(store_url, LARGE), store_url, monkeypatch, tmp_path)

    assert large == small
    assert set(large) == set(COMMANDS)
    # A handful each: the view, one grouped query per kind of fact, the report's reads.
    assert max(large.values()) < 40


def test_status_starts_without_prefect_alembic_or_matplotlib(
    store_url: str, tmp_path: Path
) -> None:
    _build(store_url, SMALL)
    probe = (
        "import sys\n"
        "from pilotscale.cli.main import main\n"
        "sys.argv = ['pilotscale', 'status', '--as-of', sys.argv[1]]\n"
        "try:\n    main()\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = ('prefect', 'alembic', 'matplotlib', 'apprise')\n"
        "found = sorted({m.split('.')[0] for m in sys.modules} & set(heavy))\n"
        "print(found, file=sys.stderr)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe, AS_OF],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            "PILOTSCALE_DATABASE_URL": store_url,
            "PILOTSCALE_DATA_DIR": str(tmp_path),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PATH": "/usr/bin:/bin",
        },
        check=False,
        timeout=300,
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stderr.strip().splitlines()[-1] == "[]"
