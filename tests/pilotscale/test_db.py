"""The store's plumbing: URLs, connection settings, sessions, and errors without passwords."""

from __future__ import annotations

import sqlite3
import threading
import traceback
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from pilotscale.db import (
    StoreError,
    StoreUnavailable,
    current_revision,
    display_url,
    dispose_engines,
    get_engine,
    head_revision,
    normalize_url,
    session_scope,
    store_failure,
)
from pilotscale.models import GateResultRecord, Program
from pilotscale.settings import get_settings
from tests.models.helpers import NOW, make_department

SECRET = "Sup3r-S3cret-pw"


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    url = normalize_url("postgresql://app:pw@db.example:5432/pilotscale")
    assert url.drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_display_url_hides_the_password() -> None:
    shown = display_url(f"postgresql://app:{SECRET}@db.example:5432/pilotscale")
    assert shown == "postgresql+psycopg://app:***@db.example:5432/pilotscale"


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg"])
def test_unreachable_store_error_never_shows_the_password(scheme: str) -> None:
    # Port 1: nothing listens there, so the connection is refused at once.
    url = f"{scheme}://postgres:{SECRET}@127.0.0.1:1/test"

    with pytest.raises(StoreUnavailable) as info:
        get_engine(url)

    message = str(info.value)
    assert message.startswith(
        "cannot connect to the store at postgresql+psycopg://postgres:***@127.0.0.1:1/test: "
    )
    assert "refused" in message.lower()
    rendered = "".join(traceback.format_exception(info.value))
    assert SECRET not in rendered


def test_migrated_on_first_use_and_engine_reused(store_url: str) -> None:
    engine = get_engine(store_url)
    assert current_revision(engine=engine) == head_revision()
    assert get_engine(store_url) is engine


def test_postgres_engine_uses_psycopg(store_url: str) -> None:
    engine = get_engine(store_url)
    expected = {"sqlite": "pysqlite", "postgresql": "psycopg"}[engine.dialect.name]
    assert engine.dialect.driver == expected


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_postgresql_connections_compile_no_statement_unless_the_url_says(store_url: str) -> None:
    """JIT off (its compiling cost more than it saved on the read commands' statements),
    unless the URL brings its own server options."""
    with get_engine(store_url).connect() as connection:
        assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    dispose_engines()
    own = get_engine(f"{store_url}?options=-c%20jit%3Don%20-c%20work_mem%3D8MB")
    with own.connect() as connection:
        assert connection.exec_driver_sql("SHOW jit").scalar() == "on"
        assert connection.exec_driver_sql("SHOW work_mem").scalar() == "8MB"


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_sqlite_connections_are_set_up_for_concurrency(store_url: str) -> None:
    engine = get_engine(store_url)
    assert Path(str(engine.url.database)).parent.is_dir()  # created on demand
    with engine.connect() as connection:

        def pragma(name: str) -> object:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == get_settings().sqlite_busy_timeout_ms
        assert pragma("synchronous") == 1  # NORMAL


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            GateResultRecord(
                department_id=4242,
                phase="piloting",
                gate="g",
                kind="metric",
                outcome="pending",
                evaluated_at=NOW,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_session_scope_commits_on_success(engine: Engine) -> None:
    with session_scope(engine=engine) as session:
        session.add(Program(name="kept", title="Kept", plan_json="{}", plan_sha256="x"))

    with Session(engine) as session:
        assert [p.name for p in session.exec(select(Program))] == ["kept"]


def test_session_scope_rolls_back_on_error(engine: Engine) -> None:
    def fail_halfway() -> None:
        with session_scope(engine=engine) as session:
            session.add(Program(name="lost", title="Lost", plan_json="{}", plan_sha256="x"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_halfway()

    with Session(engine) as session:
        assert session.exec(select(Program)).all() == []


def test_many_threads_write_at_once(engine: Engine) -> None:
    department = make_department(engine)
    assert department.id is not None
    department_id = department.id
    threads, rows_each = 8, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def write(thread: int) -> None:
        try:
            start.wait()
            for row in range(rows_each):
                with session_scope(engine=engine) as session:
                    session.add(
                        GateResultRecord(
                            department_id=department_id,
                            phase="piloting",
                            gate="weekly-active",
                            kind="metric",
                            outcome="pass",
                            evaluated_at=NOW,
                            check_key=f"check-{thread}-{row}",
                        )
                    )
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    with Session(engine) as session:
        count = session.exec(select(func.count()).select_from(GateResultRecord)).one()
    assert count == threads * rows_each


def test_a_store_migrated_by_a_newer_pilotscale_is_not_touched(store_url: str) -> None:
    engine = get_engine(store_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from-the-future'"))
    dispose_engines()  # a new process: it has not checked this store yet

    with pytest.raises(StoreError, match="newer pilotscale, so upgrade pilotscale instead"):
        get_engine(store_url)

    with get_engine(store_url, migrate=False).connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == "from-the-future"


# --------------------------------------------------------------------------- failures


def _sqlite_error(tmp_path: Path, kind: str) -> sqlite3.Error:
    """A real SQLite error of each kind, raised by SQLite itself."""
    path = tmp_path / "store.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    try:
        if kind == "full":
            db = sqlite3.connect(path)
            db.execute("PRAGMA max_page_count = 2")
            db.execute("CREATE TABLE u (x)")
            db.execute("CREATE TABLE v (x)")
        elif kind == "damaged":
            path.write_bytes(b"not a database " * 100)
            sqlite3.connect(path).execute("SELECT * FROM t")
        elif kind == "read-only":
            sqlite3.connect(f"file:{path}?mode=ro", uri=True).execute("INSERT INTO t VALUES (1)")
        else:  # locked
            holder = sqlite3.connect(path, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            sqlite3.connect(path, timeout=0).execute("INSERT INTO t VALUES (1)")
    except sqlite3.Error as exc:
        return exc
    raise AssertionError(f"no {kind} error")


@pytest.mark.parametrize(
    ("kind", "line", "restore"),
    [
        ("full", "is full (database or disk is full); ", False),
        ("damaged", "is damaged (file is not a database); running the command again cannot", True),
        ("read-only", "is read-only (attempt to write a readonly database); check that", False),
        ("other", "failed: database is locked; each change is one transaction", False),
    ],
)
def test_sqlite_failures_are_told_apart(
    kind: str, line: str, restore: bool, tmp_path: Path
) -> None:
    error = _sqlite_error(tmp_path, kind)

    failure = store_failure(error, url=f"sqlite:///{tmp_path / 'store.db'}")

    assert failure.kind == kind
    assert line in str(failure)
    assert ("copy your backup over" in failure.hint) == restore


@pytest.mark.parametrize(
    ("error", "kind", "advice"),
    [
        (psycopg.errors.DiskFull("could not extend file"), "full", "on the database server's"),
        (psycopg.errors.DataCorrupted("invalid page in block 7"), "damaged", "latest backup"),
        (psycopg.errors.IndexCorrupted("index is corrupted"), "damaged", "latest backup"),
        (psycopg.errors.ReadOnlySqlTransaction("read-only"), "read-only", "primary server"),
        (psycopg.errors.AdminShutdown("terminating connection"), "other", "run the command"),
    ],
)
def test_postgresql_failures_are_told_apart(error: Exception, kind: str, advice: str) -> None:
    failure = store_failure(error, url=f"postgresql://u:{SECRET}@db:5432/pilotscale")

    assert failure.kind == kind
    assert advice in str(failure)
    assert SECRET not in str(failure) + failure.hint
    if kind == "damaged":
        assert "pg_restore --clean -d pilotscale backup.dump" in failure.hint
