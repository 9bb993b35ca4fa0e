"""Run a pilotscale command whose store goes away in the middle of it.

    python -m tests.reliability.outage_child MODE N pilotscale-args...

The command is the real CLI entry point (`pilotscale.cli.main.main`), in this process,
with a hook on SQLAlchemy's engine events (installed here, never in product code) that
takes the store away just before the N-th SQL statement:

- `pg-terminate`: PostgreSQL ends this connection's backend (pg_terminate_backend), as
  a database restart or failover does;
- `sqlite-lock`: another connection takes SQLite's write lock and keeps it, as a stuck
  process would; the command's next write waits out the busy timeout and fails;
- `sqlite-full`: from the N-th statement on, the database file may not grow
  (`PRAGMA max_page_count` at its current size, on every connection): SQLite's own
  SQLITE_FULL, as on a full disk, wherever the test runs (mounting a small file system
  needs root).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

PG_MAINTENANCE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_held: list[sqlite3.Connection] = []


ROOT = Path(__file__).resolve().parents[2]


def run(
    mode: str, at: int, *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`pilotscale ARGS` in a process of its own, the store failing as `mode` says from
    statement `at` on."""
    return subprocess.run(
        [sys.executable, "-m", "tests.reliability.outage_child", mode, str(at), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def main() -> None:
    mode, at, *args = sys.argv[1:]
    statements = 0

    def before(connection: Any, *_: Any) -> None:
        nonlocal statements
        statements += 1
        if statements != int(at):
            return
        if mode == "pg-terminate":
            import psycopg

            pid = connection.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        elif mode == "sqlite-lock":
            holder = sqlite3.connect(connection.engine.url.database, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")  # the write lock, held until this process ends
            _held.append(holder)
        elif mode == "sqlite-full":
            full.append(True)
            _cap(connection.connection.dbapi_connection)
        else:
            raise ValueError(mode)

    full: list[bool] = []

    def _cap(dbapi_connection: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    def connected(dbapi_connection: Any, _record: Any) -> None:
        if full:
            _cap(dbapi_connection)

    event.listen(Engine, "before_cursor_execute", before)
    event.listen(Engine, "connect", connected)
    from pilotscale.cli.main import main as pilotscale

    sys.argv = ["pilotscale", *args]
    pilotscale()


if __name__ == "__main__":
    main()
