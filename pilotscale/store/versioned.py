"""Optimistic concurrency for department rows: the first writer wins, the others retry.

Two readiness checks (or a check and a person at the CLI) can load the same department
at version N. Each then writes with `UPDATE ... WHERE id = ? AND version = N` and bumps
the version, so exactly one of them changes the row; the other sees no row updated and
must reload and decide again, instead of silently overwriting what the first one did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
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
