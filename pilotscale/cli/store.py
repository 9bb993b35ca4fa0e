"""The CLI's way into the store: the configured engine, or one clear error line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pilotscale.cli.errors import store_error

if TYPE_CHECKING:
    from sqlalchemy import Engine


def store_engine(*, migrate: bool = True) -> Engine:
    """The store's engine (migrated unless told not to); a StoreError becomes the CLI's
    one line, exit 1. SQLAlchemy is imported here, by the commands that use the store."""
    from pilotscale.db import StoreError, get_engine

    try:
        return get_engine(migrate=migrate)
    except StoreError as exc:
        raise store_error(exc) from None
