"""The CLI's way into the store: the configured engine, or one clear error line."""

from __future__ import annotations

from sqlalchemy import Engine

from pilotscale.cli.errors import CliError
from pilotscale.db import StoreError, get_engine


def store_engine(*, migrate: bool = True) -> Engine:
    """The store's engine (migrated unless told not to); StoreError becomes a CliError."""
    try:
        return get_engine(migrate=migrate)
    except StoreError as exc:
        raise CliError(str(exc), exc.hint) from None
