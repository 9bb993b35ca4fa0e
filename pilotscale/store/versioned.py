"""Optimistic concurrency for department rows: the first writer wins, the others retry.

Two readiness checks (or a check and a person at the CLI) can load the same department
at version N. Each then writes with `UPDATE ... WHERE id = ? AND version = N` and bumps
the version, so exactly one of them changes the row; the other sees no row updated and
must reload and decide again, instead of silently overwriting what the first one did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, update
from sqlmodel import Session

from pilotscale.models import Department
from pilotscale.refusal import Conflict
from pilotscale.store.tables import table_of


class ConcurrentUpdate(Conflict, RuntimeError):
    """Someone else changed the department first; reload it and try again."""


def update_department(
    *,
    session: Session,
    department_id: int,
    expected_version: int,
    values: Mapping[str, Any],
    now: datetime,
) -> bool:
    """Apply `values` only if the row is still at `expected_version`; True if it was.

    Bumps `version` and sets `updated_at`. Objects already loaded in `session` are not
    refreshed: `save_department` does that for the one it was given.
    """
    if "version" in values:
        raise ValueError("the version is bumped here; do not set it yourself")
    # A Core UPDATE: the ORM's bulk UPDATE would also search the session for objects to
    # synchronise, which cost more than the statement itself in a large check.
    table = table_of(Department)
    result = session.execute(
        update(table)
        .where(table.c.id == department_id, table.c.version == expected_version)
        .values(**values, version=expected_version + 1, updated_at=now)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def update_departments(
    *, session: Session, updates: Sequence[tuple[int, int, Mapping[str, Any]]], now: datetime
) -> int:
    """`update_department` for many (id, expected version, values) at once: one executemany
    per set of columns changed. Returns the rows updated: fewer than `updates` when some
    department changed since it was read (the caller rolls back)."""
    table = table_of(Department)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for department_id, version, values in updates:
        if "version" in values:
            raise ValueError("the version is bumped here; do not set it yourself")
        groups.setdefault(tuple(sorted(values)), []).append(
            {
                "b_id": department_id,
                "b_version": version,
                "b_next": version + 1,
                "b_now": now,
                **{f"v_{name}": value for name, value in values.items()},
            }
        )
    updated = 0
    for names, params in groups.items():
        c = table.c
        statement = (
            update(table)
            .where(c.id == bindparam("b_id"), c.version == bindparam("b_version"))
            .values(
                {
                    **{name: bindparam(f"v_{name}", type_=c[name].type) for name in names},
                    "version": bindparam("b_next"),
                    "updated_at": bindparam("b_now", type_=c.updated_at.type),
                }
            )
        )
        result = cast(CursorResult[Any], session.execute(statement, params))
        updated += result.rowcount
    return updated
