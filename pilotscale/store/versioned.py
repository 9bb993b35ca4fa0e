"""Optimistic concurrency for department rows: the first writer wins, the others retry.

Two readiness checks (or a check and a person at the CLI) can load the same department
at version N. Each then writes with `UPDATE ... WHERE id = ? AND version = N` and bumps
the version, so exactly one of them changes the row; the other sees no row updated and
must reload and decide again, instead of silently overwriting what the first one did.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, update

from models import Department


class ConcurrentUpdate(RuntimeError):
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

    Bumps `version` and sets `updated_at`; objects already loaded in `session` are
    refreshed with the new values.
    """
    if "version" in values:
        raise ValueError("the version is bumped here; do not set it yourself")
    result = session.exec(
        update(Department)
        .where(col(Department.id) == department_id, col(Department.version) == expected_version)
        .values(**values, version=expected_version + 1, updated_at=now)
    )
    return result.rowcount == 1
