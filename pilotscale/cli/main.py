"""The `pilotscale` command's entry point: logging set-up and the one-line error handling."""

from __future__ import annotations

import logging
import os
import sys

# Importing the command modules registers each command on `app`.
from pilotscale.cli import commands  # noqa: F401
from pilotscale.cli.app import app, err_console
from pilotscale.cli.errors import CliError, Unexpected, expected_failure
from pilotscale.cli.text import guard_log_lines, plain


def main() -> None:
    # psycopg warns on stderr when it closes a connection the server already dropped;
    # the one-line error below says what happened, and what to do.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # Prefect's background services say "Still processing items: N items remaining..."
    # while they flush at exit: progress, not a problem, and not the command's answer.
    for service in ("EventsWorker", "APILogWorker"):
        logging.getLogger(service).setLevel(logging.ERROR)
    # Prefect's per-run INFO lines would bury the command's own one-line answer, and its
    # telemetry write hits "database is locked" on the local SQLite API. Both stay
    # overridable from the environment.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    ephemeral_api_patience()
    # Library warnings (matplotlib's "Glyph 27 missing" repeats a chart label's control
    # codes raw) become log lines: text where a handler prints them (Prefect's console),
    # and dropped where none does; they are for developers, not for the command's answer.
    logging.captureWarnings(True)
    guard_log_lines()
    # Standalone mode lets typer handle usage errors (exit 2) and Ctrl-C itself.
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("aborted", markup=False)
        sys.exit(130)
    except Exception as exc:  # never a traceback: the store failing is not a bug either
        failure = expected_failure(exc)
        if failure is None:  # a bug: still one line, unless the traceback is asked for
            if os.environ.get("PILOTSCALE_DEBUG"):
                raise
            failure = Unexpected(exc)
        report(failure)
        sys.exit(failure.exit_code)


def ephemeral_api_patience() -> None:
    """Without a server, a command starts Prefect's local API in its own process: about 8 s,
    20 s with a new PREFECT_HOME on a 2-core machine, which is Prefect's own 20 s limit, so
    a first run on a busy machine failed. Two minutes, unless the environment says."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def report(failure: CliError) -> None:
    """The error line, and its hint line if any: each one line, whatever the text holds."""
    err_console.print(f"error: {plain(failure, one_line=True)}", markup=False)
    if failure.hint:
        err_console.print(f"hint: {plain(failure.hint, one_line=True)}", markup=False)
