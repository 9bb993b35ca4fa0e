"""INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike.

Idempotence rests on unique keys: a re-run inserts the same rows again and the
database drops them, inside the caller's transaction, with no read-then-write race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session


def insert_ignore(*, session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert `rows` into `model`'s table, skipping any that hit a unique constraint.

    Returns how many rows were actually inserted.
    """
    if not rows:
        return 0
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # Conflicts on any unique constraint are ignored: each table has exactly one natural key.
    # Counted from RETURNING: an executemany's rowcount is not the number of rows inserted
    # on PostgreSQL (psycopg reports 0), so "already there" could not be told apart.
    statement = insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
    result = cast(CursorResult[Any], session.execute(statement, [dict(r) for r in rows]))
    return len(result.all())
