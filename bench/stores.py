"""The benchmark's stores: one pristine store per size, and a working copy that every run
that writes starts from, so that each measurement sees exactly the same data.

SQLite: the pristine file is copied over the working file. PostgreSQL: the working
database is recreated with `CREATE DATABASE ... TEMPLATE pristine`.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import psycopg

PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_MAINTENANCE = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"


def postgres_reachable() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            pass
        with psycopg.connect(PG_MAINTENANCE, connect_timeout=3):
            return True
    except (OSError, psycopg.Error):
        return False


class SqliteStores:
    kind = "sqlite"

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "sqlite"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.work_path = self.dir / "work.db"

    def pristine_url(self, departments: int) -> str:
        return f"sqlite:///{self._pristine(departments)}"

    def new_pristine(self, departments: int) -> str:
        _remove_sqlite(self._pristine(departments))
        return self.pristine_url(departments)

    def work_url(self) -> str:
        return f"sqlite:///{self.work_path}"

    def reset_work(self, departments: int) -> str:
        """The working store, as the pristine one of this size (no process may hold it)."""
        _remove_sqlite(self.work_path)
        # SQLite's backup, not a file copy: a copy of the main file alone would miss
        # anything still in the write-ahead log.
        pristine = self._pristine(departments)
        with (
            closing(sqlite3.connect(pristine)) as source,
            closing(sqlite3.connect(self.work_path)) as target,
        ):
            source.backup(target)
        return self.work_url()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _pristine(self, departments: int) -> Path:
        return self.dir / f"pristine-{departments}.db"


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", ".migrate-lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class PostgresStores:
    kind = "postgres"

    def __init__(self) -> None:
        # Unique per run: other processes may benchmark or test on the same server.
        self.prefix = f"psbench_{os.getpid()}"
        self.created: set[str] = set()

    def pristine_url(self, departments: int) -> str:
        return self._url(f"{self.prefix}_n{departments}")

    def new_pristine(self, departments: int) -> str:
        name = f"{self.prefix}_n{departments}"
        self._recreate(name)
        return self._url(name)

    def work_url(self) -> str:
        return self._url(f"{self.prefix}_work")

    def reset_work(self, departments: int) -> str:
        self._recreate(f"{self.prefix}_work", template=f"{self.prefix}_n{departments}")
        return self.work_url()

    def cleanup(self) -> None:
        with psycopg.connect(PG_MAINTENANCE, autocommit=True) as connection:
            for name in sorted(self.created):
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()

    def _recreate(self, name: str, template: str | None = None) -> None:
        with psycopg.connect(PG_MAINTENANCE, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            clause = f' TEMPLATE "{template}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{clause}')
        self.created.add(name)

    @staticmethod
    def _url(name: str) -> str:
        return f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}"


Stores = SqliteStores | PostgresStores
