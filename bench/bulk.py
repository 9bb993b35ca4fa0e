"""Fast bulk writes for the generator: executemany on SQLite, COPY on PostgreSQL.

Datetimes are written the way the store's UTCDateTime column writes them (naive UTC
text on SQLite, timestamptz on PostgreSQL), so that pilotscale reads them back exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime on SQLite


def sqlite_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(SQLITE_FORMAT)


def db_value(value: Any, dialect: str) -> Any:
    """A Python value as this bench's raw DB-API writes and reads compare it."""
    if isinstance(value, datetime) and dialect == "sqlite":
        return sqlite_time(value)
    return value


def insert_rows(
    *, engine: Engine, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert `rows` (tuples in `columns` order) in one transaction; returns the count."""
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    count = 0
    try:
        cursor = raw.cursor()
        if dialect == "postgresql":
            names = ", ".join(columns)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            batch: list[tuple[Any, ...]] = []
            for row in rows:
                batch.append(tuple(db_value(v, dialect) for v in row))
                if len(batch) >= 50_000:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch.clear()
            cursor.executemany(statement, batch)
            count += len(batch)
        raw.commit()
    finally:
        raw.close()
    return count


def execute_many(*, engine: Engine, statement: str, params: Sequence[Sequence[Any]]) -> None:
    """One statement for many parameter tuples, with '?' marks (rewritten for psycopg)."""
    dialect = engine.dialect.name
    if dialect == "postgresql":
        statement = statement.replace("?", "%s")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.executemany(statement, [tuple(db_value(v, dialect) for v in p) for p in params])
        raw.commit()
    finally:
        raw.close()
