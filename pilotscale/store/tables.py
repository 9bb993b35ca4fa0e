"""The Core table behind a SQLModel class, for statements that want no ORM objects."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnCollection, Table


def table_of(model: Any) -> Table:
    return cast(Table, model.__table__)


def columns_of(model: Any) -> ColumnCollection[str, Any]:
    # Core columns rather than SQLModel attributes: typed as SQL expressions, and no ORM
    # objects are built for rows that are only counted or copied.
    return table_of(model).c
