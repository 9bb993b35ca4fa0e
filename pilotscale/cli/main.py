"""The `pilotscale` command: logging set-up and the one-line error handling (the installed
script, `pilotscale.cli.script`, runs it)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

# typer 0.29 carries its own copy of click: its usage errors are these classes.
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from pilotscale.cli import commands
from pilotscale.cli.app import app, err_console, reflow_help
from pilotscale.cli.errors import CliError, Unexpected, expected_failure
from pilotscale.cli.text import guard_log_lines, plain

# Importing the command modules registers each command on `app` (all of them, unless
# the installed command narrowed it to the one it runs: pilotscale.cli.script).
commands.load()
reflow_help(app)


def main() -> None:
    with _as_it_was():
        _main()


@contextmanager
def _as_it_was() -> Iterator[None]:
    """Apprise's log level and PREFECT_LOGGING_LEVEL as they were before the command (the
    --verbose option sets both): a process that runs the command in itself (the tests,
    hundreds of times) keeps its own."""
    apprise = logging.getLogger("apprise")
    level, prefect_level = apprise.level, os.environ.get("PREFECT_LOGGING_LEVEL")
    try:
        yield
    finally:
        apprise.setLevel(level)
        if prefect_level is None:
            os.environ.pop("PREFECT_LOGGING_LEVEL", None)
        else:
            os.environ["PREFECT_LOGGING_LEVEL"] = prefect_level


def _main() -> None:
    # psycopg warns on stderr when it closes a connection the server already dropped;
    # the one-line error below says what happened, and what to do.
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    # Prefect's background services say "Still processing items: N items remaining..."
    # while they flush at exit: progress, not a problem, and not the command's answer.
    for service in ("EventsWorker", "APILogWorker"):
        logging.getLogger(service).setLevel(logging.ERROR)
    # Prefect's telemetry write hits "database is locked" on the local SQLite API; its
    # log level is the --verbose option's (pilotscale.cli.app.library_logs).
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    ephemeral_api_patience()
    # Library warnings (matplotlib's "Glyph 27 missing" repeats a chart label's control
    # codes raw) become log lines: text where a handler prints them (Prefect's console),
    # and dropped where none does; they are for developers, not for the command's answer.
    logging.captureWarnings(True)
    guard_log_lines()
    # Not standalone: a usage error comes back here as click raised it, to be printed as
    # one line with a hint like every other error, not as typer's five-line boxed panel.
    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # the help is already printed
        sys.exit(exc.exit_code)
    except ClickException as exc:
        usage = usage_error(exc)
        report(usage)
        sys.exit(usage.exit_code)
    except typer.Abort:  # EOF at a prompt
        err_console.print("aborted", markup=False)
        sys.exit(130)
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
    # A command's return value is None; `typer.Exit(code)` (and --help, --version) come
    # back as their code.
    sys.exit(code if isinstance(code, int) else 0)


def usage_error(exc: ClickException) -> CliError:
    """click's usage error as one line, with where to read the command's usage."""
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "pilotscale"
    return CliError(exc.format_message(), f"see `{command} --help`", exit_code=exc.exit_code)


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
