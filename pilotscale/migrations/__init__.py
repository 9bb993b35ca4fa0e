"""Alembic migrations of the store, run in code by `pilotscale.db` (no alembic.ini needed)."""
