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
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session

from pilotscale.migrations import HEAD_REVISION
from pilotscale.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite", "postgresql+psycopg"})
_URL_EXAMPLES = "expected e.g. 'sqlite:///path/to/file.db' or 'postgresql://user@host:5432/dbname'"
# Any constant works; it only has to be the same in every pilotscale process.
_PG_MIGRATION_LOCK = 0x70696C6F74  # "pilot"

_lock = threading.RLock()
_engines: dict[str, Engine] = {}
_migrated: weakref.WeakSet[Engine] = weakref.WeakSet()


class StoreError(RuntimeError):
    """The store cannot be used; the message is one line a person can act on, and `hint`,
    when there is one, a second line: what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class StoreUnavailable(StoreError):
    """The database cannot be reached or opened."""


def normalize_url(url: str | URL) -> URL:
    """Parse `url`; plain `postgresql://` means psycopg 3, the driver pilotscale ships with."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"the store URL is not a database URL; {_URL_EXAMPLES}") from None
    except ValueError:  # SQLAlchemy reads the port as a number
        raise StoreError(f"the store URL's port is not a number; {_URL_EXAMPLES}") from None
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
    from alembic.config import Config

    config = Config()
    # ConfigParser interpolation would read a '%' in the path as a placeholder.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # only if the packaged migrations are missing
        raise StoreError(f"no migrations found in {MIGRATIONS_DIR}; reinstall pilotscale")
    return head


def current_revision(*, engine: Engine) -> str | None:
    """The store's schema revision; None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with _connect(engine) as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(*, engine: Engine) -> None:
    """Bring the schema to the head revision; safe to run from many processes at once."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    with _migrating(engine) as connection:
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
    with _lock:
        _migrated.add(engine)


def downgrade(*, engine: Engine, revision: str) -> None:
    """Take the schema back to `revision` (an operator's way back from a bad release)."""
    from alembic import command

    with _migrating(engine) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    with _lock:
        _migrated.discard(engine)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection holding the migration lock, committed when the block ends.

    SQLite alters a table by rebuilding it (Alembic's batch mode): with foreign keys
    enforced, dropping the old `person` fails as soon as a champion row refers to it. So
    enforcement is off while migrating (the pragma is ignored inside a transaction, hence
    before the lock), the whole store is checked before the commit, and it is on again
    before the connection goes back to the pool."""
    with _connect(engine) as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        try:
            with _migration_lock(connection):
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        connection.rollback()
                        raise StoreError(
                            f"the migration of the store at {display_url(engine)} would leave "
                            f"{len(broken)} rows referring to rows that do not exist (first "
                            f"in table {broken[0][0]}); nothing was changed"
                        )
                connection.commit()
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def ensure_migrated(*, engine: Engine) -> None:
    """Upgrade once per engine and process; a single revision query when up to date.

    That query is plain SQL: Alembic (a third of a second and 11 MB to import, on every
    command) is imported only when the store is not at HEAD_REVISION."""
    if engine in _migrated:
        return
    with _lock:
        if engine in _migrated:
            return
        at_head = _stored_revision(engine=engine) == HEAD_REVISION
        if not at_head and current_revision(engine=engine) != head_revision():
            upgrade(engine=engine)
        _migrated.add(engine)


def _stored_revision(*, engine: Engine) -> str | None:
    """The revision Alembic recorded, read without Alembic; None when it cannot be read
    that way (an empty store: Alembic's own reading then decides)."""
    with _connect(engine) as connection:
        try:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except DBAPIError:
            return None
    return str(rows[0][0]) if len(rows) == 1 else None


# --------------------------------------------------------------------------- plumbing


def _create_engine(url: URL) -> Engine:
    if url.drivername not in _DRIVERS:
        raise StoreError(
            f"unsupported store {display_url(url)}: pilotscale supports SQLite and PostgreSQL "
            f"through psycopg 3; {_URL_EXAMPLES}"
        )
    try:
        if url.get_backend_name() == "sqlite":
            return _create_sqlite_engine(url)
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = 10
        if "options" not in url.query:
            # PostgreSQL compiles a statement it estimates as costly (the read commands'
            # grouped reads over thousands of departments are) to machine code first,
            # which took longer than it saved: at 2,000 departments the metric windows'
            # statement took 0.48-0.60 s with JIT against 0.40-0.42 s without. A URL
            # with its own `options` keeps the server's setting.
            connect_args["options"] = "-c jit=off"
        # pre_ping: a worker that outlives a database restart reconnects instead of failing.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except ArgumentError as exc:  # e.g. "Invalid SQLite URL", followed by a list of forms
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"the store URL is not usable: {first}; {_URL_EXAMPLES}") from None


def _create_sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot create the folder {folder} for the store at {display_url(url)}: "
                f"{exc.strerror or type(exc).__name__}"
            ) from None
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
        failure = store_failure(exc, url=engine.url)
        if failure.kind != "other":  # full, damaged, read-only, I/O: as if met mid-command
            raise StoreUnavailable(str(failure), failure.hint) from None
        raise StoreUnavailable(
            f"cannot connect to the store at {display_url(engine)}: {_reason(exc, engine.url)}"
        ) from None
    try:
        yield connection
    finally:
        connection.close()


class StoreFailure(StoreError):
    """A database error met mid-command, as one line and a hint; `kind` says which."""

    def __init__(self, message: str, hint: str = "", kind: str = "other") -> None:
        super().__init__(message, hint)
        self.kind = kind


def store_failure(exc: BaseException, *, url: str | URL | None = None) -> StoreFailure:
    """What a database error met mid-command means, in one line (and a hint): which
    store, what happened (full, damaged, read-only, an I/O error, or the first line of the
    driver's reason: locked, the connection dropped), password masked, and what to do.

    Never the SQL or its parameters, which SQLAlchemy puts in str(exc): they may hold
    people's data, and they do not help anyone act.
    """
    parsed = normalize_url(url if url is not None else get_settings().resolved_database_url())
    original = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(original).splitlines() if line.strip()), "")
    reason = _reason(RuntimeError(first or type(original).__name__), parsed)
    where = f"the store at {display_url(parsed)}"
    nothing_kept = "each change is one transaction, so nothing half-done was kept"
    kind = _failure_kind(original)
    sqlite = parsed.get_backend_name() == "sqlite"
    path = str(Path(parsed.database or "").expanduser()) if sqlite else ""
    if kind == "full":
        room = f"on the disk that holds {path}" if sqlite else "on the database server's disk"
        return StoreFailure(
            f"{where} is full ({reason}); {nothing_kept}: make room {room}, then run the "
            "command again",
            kind=kind,
        )
    if kind == "damaged":
        return StoreFailure(
            f"{where} is damaged ({reason}); running the command again cannot repair it: "
            "restore the store from your latest backup",
            _restore_hint(path, parsed),
            kind=kind,
        )
    if kind == "read-only":
        fix = (
            f"check that this user may write {path} and its folder"
            if sqlite
            else "point PILOTSCALE_DATABASE_URL at the primary server, not a read-only replica"
        )
        return StoreFailure(f"{where} is read-only ({reason}); {fix}", kind=kind)
    if kind == "io":
        return StoreFailure(
            f"{where} cannot be read or written ({reason}); {nothing_kept}: check the disk "
            f"that holds {path} (full, removed, read-only?), then run the command again",
            kind=kind,
        )
    return StoreFailure(f"{where} failed: {reason}; {nothing_kept}: run the command again")


# SQLite's primary result codes, and PostgreSQL's SQLSTATEs, for each kind of failure.
_SQLITE_KINDS = {13: "full", 11: "damaged", 26: "damaged", 8: "read-only", 10: "io"}
_POSTGRES_KINDS = {"53100": "full", "XX001": "damaged", "XX002": "damaged", "25006": "read-only"}


def _failure_kind(error: BaseException) -> str:
    """full, damaged, read-only, io, or other (locked, the connection dropped, ...)."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE_KINDS.get(code & 0xFF, "other")
    return _POSTGRES_KINDS.get(str(getattr(error, "sqlstate", "") or ""), "other")


def _restore_hint(path: str, url: URL) -> str:
    """How to put a backup back, with the backup commands of docs/operations.md."""
    where = 'docs/operations.md, "What to back up"'
    if path:
        return (
            f"stop every pilotscale process, copy your backup over {path}, delete {path}-wal "
            f"and {path}-shm if present, then run the command again (backups are made with "
            f'sqlite3 {path} ".backup backup.db"; see {where})'
        )
    return (
        f"restore the database {url.database} from your latest pg_dump (pg_restore --clean "
        f"-d {url.database} backup.dump), then run the command again; see {where}"
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
