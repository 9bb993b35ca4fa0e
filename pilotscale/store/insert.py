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


def insert_ignore_many(*, session: Session, model: Any, rows: Sequence[Mapping[str, Any]]) -> int:
    """`insert_ignore` as one prepared statement run for every row (DB-API executemany):
    nothing compiled per call (SQLAlchemy compiles each multi-row INSERT … RETURNING
    anew), and psycopg pipelines the rows to PostgreSQL in one round trip per batch.

    Only for tables whose triggers, if any, run per row: a statement-level trigger (the
    metric roll-up's on PostgreSQL) would fire once per row here. The rows of one call
    share their keys, like those of one multi-row INSERT.
    """
    if not rows:
        return 0
    table = table_of(model)
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    sql, processors, defaults = _prepared(table, tuple(names), dialect)
    # Column by column, each distinct value processed once: a check's rows share their
    # moments (`now`), and the type's processing was most of the cost of the parameters.
    values = [
        _processed([row[n] for row in rows], f) for n, f in zip(names, processors, strict=True)
    ]
    values += [_processed([d(None) for _ in rows], f) for f, d in defaults]
    params = list(zip(*values, strict=True))
    result = connection.exec_driver_sql(sql, params)
    return max(result.rowcount, 0)


def _processed(column: list[Any], process: Any) -> list[Any]:
    if process is None:
        return column
    seen: dict[Any, Any] = {}
    out = []
    for value in column:
        try:
            found = seen[value]
        except KeyError:
            found = seen[value] = process(value)
        except TypeError:  # unhashable (a JSON value): processed every time
            found = process(value)
        out.append(found)
    return out


_PREPARED: dict[tuple[str, tuple[str, ...], str], Any] = {}


def _prepared(table: Any, names: tuple[str, ...], dialect: Any) -> Any:
    """(SQL, a bind processor per given column, (processor, default) per defaulted column)."""
    key = (table.name, names, dialect.name)
    found = _PREPARED.get(key)
    if found is not None:
        return found
    given = [table.c[name] for name in names]
    # Columns left out take their model default, as an ORM or Core insert would give them.
    defaulted = [
        c
        for c in table.columns
        if c.name not in names and c.default is not None and not c.primary_key
    ]
    columns = [*given, *defaulted]
    mark = "%s" if dialect.paramstyle in ("format", "pyformat") else "?"
    quote = dialect.identifier_preparer.quote
    sql = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in columns)}) "
        f"VALUES ({', '.join(mark for _ in columns)}) ON CONFLICT DO NOTHING"
    )
    processors = [c.type.dialect_impl(dialect).bind_processor(dialect) for c in given]
    defaults = [
        (
            c.type.dialect_impl(dialect).bind_processor(dialect),
            c.default.arg if c.default.is_callable else (lambda _, v=c.default.arg: v),
        )
        for c in defaulted
    ]
    found = _PREPARED[key] = (sql, processors, defaults)
    return found
