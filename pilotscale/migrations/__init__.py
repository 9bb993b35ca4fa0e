"""Alembic migrations of the store, run in code by `pilotscale.db` (no alembic.ini needed)."""

# The newest revision in versions/, so that a store already there is recognised without
# importing Alembic (tests/pilotscale/migrations checks it against Alembic's own head).
HEAD_REVISION = "0010"
