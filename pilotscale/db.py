"""The store's engine, sessions and schema migrations, for SQLite and PostgreSQL.

Any process may be first to touch a store (the CLI, a Prefect worker on another
machine), so every process brings the schema to the head revision on first use;
when it is already there that costs one query. Database passwords never appear in
a message from here: URLs are shown with the password masked.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session

from pilotscale.settings import get_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same in every pilotscale process.
_PG_MIGRATION_LOCK = 0x70696C6F74  # "pilot"

_lock = threading.RLock()
_engines: dict[str, Engine] = {}
_migrated: weakref.WeakSet[Engine] = weakref.WeakSet()


class StoreError(RuntimeError):
    """The store cannot be used; the message is one line a person can act on."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


def normalize_url(url: str | URL) -> URL:
    """Parse `url`; plain `postgresql://` means psycopg 3, the driver pilotscale ships with."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "the store URL is not a database URL; expected e.g. 'sqlite:///path/to/file.db' "
            "or 'postgresql://user@host:5432/dbname'"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def display_url(url: str | URL | Engine) -> str:
    """The URL as it may be printed or logged: password replaced by ***."""
    if isinstance(url, Engine):
        url = url.url
    return normalize_url(url).render_as_string(hide_password=True)


def get_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """The engine for `url` (default: the configured store), one per URL and process.

    With `migrate` (the default) the schema is brought to the head revision on first use.
    """
    parsed = normalize_url(url if url is not None else get_settings().resolved_database_url())
    key = parsed.render_as_string(hide_password=False)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _create_engine(parsed)
            _engines[key] = engine
    if migrate:
        ensure_migrated(engine=engine)
    return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, or a process that forked and must reconnect)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _migrated.clear()


@contextmanager
def session_scope(*, engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit when the block succeeds, roll back when it raises.

    Objects stay readable after the block (no expiry on commit), so callers can return
    them; they are detached, and changes to them are not saved.
    """
    engine = engine if engine is not None else get_engine()
    ensure_migrated(engine=engine)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --------------------------------------------------------------------------- migrations


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed at runtime."""
    config = Config()
    # ConfigParser interpolation would read a '%' in the path as a placeholder.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the packaged migrations are missing
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}; reinstall pilotscale")
    return head


def current_revision(*, engine: Engine) -> str | None:
    """The store's schema revision; None for an empty database."""
    with _connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(*, engine: Engine) -> None:
    """Bring the schema to the head revision; safe to run from many processes at once."""
    script = ScriptDirectory.from_config(alembic_config())
    with _connect(engine) as connection, _migration_lock(connection):
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
            raise StoreError(
                f"the store at {display_url(engine)} is at schema revision {current}, which this "
                "version of pilotscale does not know; it was migrated by a newer pilotscale, "
                "so upgrade pilotscale instead"
            )
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    with _lock:
        _migrated.add(engine)


def ensure_migrated(*, engine: Engine) -> None:
    """Upgrade once per engine and process; a single revision query when up to date."""
    if engine in _migrated:
        return
    with _lock:
        if engine in _migrated:
            return
        if current_revision(engine=engine) != head_revision():
            upgrade(engine=engine)
        _migrated.add(engine)


# --------------------------------------------------------------------------- plumbing


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url)
    if url.get_backend_name() == "postgresql":
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = 10
        # pre_ping: a worker that outlives a database restart reconnects instead of failing.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    raise StoreError(
        f"unsupported store {display_url(url)}: pilotscale supports SQLite and PostgreSQL"
    )


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    busy_timeout_ms = get_settings().sqlite_busy_timeout_ms
    engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers work while one process writes; the busy timeout makes a second
        # writer wait instead of failing at once with "database is locked".
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return engine


@contextmanager
def _connect(engine: Engine) -> Iterator[Connection]:
    try:
        connection = engine.connect()
    except (DBAPIError, OSError) as exc:
        # `from None`: the driver's exception chain is not needed to act on this, and
        # nothing below this line may ever print the URL with its password.
        raise StoreUnavailable(
            f"cannot connect to the store at {display_url(engine)}: {_reason(exc, engine.url)}"
        ) from None
    try:
        yield connection
    finally:
        connection.close()


def store_failure(exc: BaseException, *, url: str | URL | None = None) -> str:
    """One line for a database error met mid-command (the connection dropped, the file is
    locked): which store, and the first line of the driver's reason, password masked.

    Never the SQL or its parameters, which SQLAlchemy puts in str(exc): they may hold
    people's data, and they do not help anyone act.
    """
    parsed = normalize_url(url if url is not None else get_settings().resolved_database_url())
    original = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(original).splitlines() if line.strip()), "")
    reason = _reason(RuntimeError(first or type(original).__name__), parsed)
    return (
        f"the store at {display_url(parsed)} failed: {reason}; each change is one "
        "transaction, so nothing half-done was kept: run the command again"
    )


def _reason(exc: BaseException, url: URL) -> str:
    original = getattr(exc, "orig", None) or exc
    reason = " ".join(str(original).split()) or type(original).__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


@contextmanager
def _migration_lock(connection: Connection) -> Iterator[None]:
    """Only one process migrates a store at a time; the others wait, then find it done."""
    if connection.dialect.name == "postgresql":
        # Transaction-scoped: released by the commit (or rollback) that ends the upgrade.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        yield
        return
    database = connection.engine.url.database or ""
    if connection.dialect.name != "sqlite" or database in ("", ":memory:"):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not on POSIX: no inter-process lock, the busy timeout must do
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
