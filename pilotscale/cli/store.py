"""The CLI's way into the store: the configured engine, or one clear error line."""

from __future__ import annotations

from sqlalchemy import Engine

from pilotscale.cli.errors import store_error
from pilotscale.db import StoreError, get_engine


def store_engine(*, migrate: bool = True) -> Engine:
    """The store's engine (migrated unless told not to); a StoreError becomes the CLI's
    one line, exit 1."""
    try:
        return get_engine(migrate=migrate)
    except StoreError as exc:
        raise store_error(exc) from None
