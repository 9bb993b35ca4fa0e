"""The `pilotscale` command: entry point, shared options and error handling."""

from __future__ import annotations

import logging
import os
import sys

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from pilotscale.cli.errors import CliError

app = typer.Typer(
    name="pilotscale",
    help=(
        "Scale a successful pilot to the whole organisation, one department at a time.\n\n"
        "Typical session:\n\n"
        "  pilotscale validate plan.yaml     # check the plan, every problem with its line\n\n"
        "  pilotscale apply plan.yaml        # load it into the store (idempotent)\n\n"
        "  pilotscale status                 # departments x phase x gates\n\n"
        "  pilotscale explain hr             # why is HR held, and what to do"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def _register_commands() -> None:
    # Imported here so each command module registers itself on `app` without import cycles.
    from pilotscale.cli import commands  # noqa: F401


def main() -> None:
    # psycopg warns on stderr when it closes a connection the server already dropped;
    # the one-line error below says what happened, and what to do.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # Prefect's per-run INFO lines would bury the command's own one-line answer, and its
    # telemetry write hits "database is locked" on the local SQLite API. Both stay
    # overridable from the environment.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    _register_commands()
    # Standalone mode lets typer handle usage errors (exit 2) and Ctrl-C itself.
    try:
        app()
    except CliError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("aborted", markup=False)
        sys.exit(130)
    except DBAPIError as exc:  # the store went away mid-command: not a bug, not a traceback
        from pilotscale.db import store_failure

        err_console.print(f"error: {store_failure(exc)}", markup=False)
        sys.exit(2)
    except Exception as exc:  # a bug: still one line, never a traceback, unless asked for
        if os.environ.get("PILOTSCALE_DEBUG"):
            raise
        err_console.print(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(set PILOTSCALE_DEBUG=1 for the traceback)",
            markup=False,
        )
        sys.exit(1)
