"""Dispatcher defaults, in a module light enough for the CLI to import at startup."""

from __future__ import annotations

DEFAULT_BATCH_SIZE = 200  # rows claimed per transaction
DEFAULT_CONCURRENCY = 16  # sends in flight at once
DEFAULT_LEASE_SECONDS = 300.0  # at least; raised to cover the slowest possible batch
DEFAULT_MAX_ATTEMPTS = 6  # then the message is dead and the lead is alerted
DEFAULT_TIMEOUT = 15.0  # seconds a channel may take to answer
