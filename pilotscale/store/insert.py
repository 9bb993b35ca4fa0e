"""INSERT ... ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike.

Idempotence rests on unique keys: a re-run inserts the same rows again and the
database drops them, inside the caller's transaction, with no read-then-write race.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from pilotscale.store.tables import table_of


def insert_ignore(*, session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert `rows` into `model`'s table, skipping any that hit a unique constraint.

    Returns how many rows were actually inserted.
    """
    if not rows:
        return 0
    table = table_of(model)
    key = next(iter(table.primary_key.columns))
    return len(_insert_ignoring(session=session, table=table, rows=rows, returning=key))


def inserted_values(
    *, session: Session, model: Any, rows: Sequence[Mapping[str, Any]], column: str
) -> list[Any]:
    """Insert `rows` as `insert_ignore` does; returns `column` of the rows inserted (a row
    that hit a unique constraint is not among them)."""
    if not rows:
        return []
    table = table_of(model)
    return _insert_ignoring(session=session, table=table, rows=rows, returning=table.c[column])


def _insert_ignoring(
    *, session: Session, table: Any, rows: Sequence[Mapping[str, Any]], returning: Any
) -> list[Any]:
    dialect = session.get_bind().dialect.name
    # The dialect's own INSERT, imported here: a SQLite store never loads PostgreSQL's
    # dialects (and their drivers' modules), which cost the read commands' start-up.
    insert: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # Conflicts on any unique constraint are ignored: each table has exactly one natural key.
    # RETURNING tells what was inserted: psycopg reports no row count for batched inserts.
    statement = insert(table).on_conflict_do_nothing().returning(returning)
    result = session.execute(statement, [dict(r) for r in rows])
    return list(result.scalars().all())
