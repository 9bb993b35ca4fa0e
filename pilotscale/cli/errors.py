"""How the CLI fails: one clear line on stderr (and at most a one-line hint), never a
traceback, and an exit code by kind (pilotscale.refusal.Exit): 2 for a usage error or a
refusal, 3 for an unknown name, 4 for a conflict or a race lost to another command, 1
for a failure (the store full, locked, unreachable or damaged; Prefect; a bug, printed
as `unexpected ...`).

`expected_failure` is the one place that knows which exceptions are expected and what
each one says; the entry point, the in-process flow runs and the operator commands all
ask it. Every domain refusal is a pilotscale.refusal.Refusal, caught as that one class,
whose kind carries its exit code; the rest it knows are library failures (the store,
settings, Prefect).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import typer

from pilotscale.cli.app import err_console
from pilotscale.cli.text import plain
from pilotscale.refusal import Exit, Refusal

if TYPE_CHECKING:
    from pydantic import ValidationError

    from pilotscale.db import StoreError
    from pilotscale.store.queries import NotFound

# What Prefect raises when its in-process API server does not answer within
# PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (prefect/server/api/server.py).
_EPHEMERAL_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"


class CliError(Exception):
    """A user-facing failure. The message is printed as one line, then `hint` if any; a
    usage error unless `exit_code` says which other kind (pilotscale.refusal.Exit)."""

    exit_code: int = Exit.refused

    def __init__(self, message: str, hint: str = "", *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code


class Unexpected(CliError):
    """A bug: still one line, with the way to its traceback."""

    exit_code = Exit.failure

    def __init__(self, exc: BaseException) -> None:
        super().__init__(
            f"unexpected {type(exc).__name__}: {exc} (set PILOTSCALE_DEBUG=1 for the traceback)"
        )


def unknown_name(kind: str, name: str, known: Iterable[str]) -> CliError:
    """An error for an unknown department/gate/person that suggests the closest known name."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(sorted(known)[:12]) or "none"
    return CliError(f"unknown {kind} '{name}'{hint} (known: {listing})", exit_code=Exit.not_found)


def refused(exc: Refusal) -> CliError:
    """What the CLI prints for a refusal: its one line (an unknown name with the closest
    known one), and its exit code."""
    if _is_a(exc, "pilotscale.store.queries", "NotFound"):
        unknown = cast("NotFound", exc)
        return unknown_name(unknown.kind, unknown.name, unknown.known)
    return CliError(exc.message, exit_code=exc.exit_code)


def expected_failure(exc: BaseException) -> CliError | None:
    """The CliError to print for `exc`, or None when `exc` is a bug."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, Refusal):
        return refused(exc)
    if _is_a(exc, "pilotscale.db", "StoreError"):
        return store_error(cast("StoreError", exc))
    if _is_a(exc, "sqlalchemy.exc", "DBAPIError"):  # the store failed mid-command: full, locked...
        from pilotscale.db import store_failure

        return store_error(store_failure(exc))
    if _is_a(exc, "pydantic_core", "ValidationError"):
        invalid = cast("ValidationError", exc)
        if invalid.title == "Settings":
            return CliError(_bad_settings(invalid))
    if isinstance(exc, RuntimeError) and str(exc).startswith(_EPHEMERAL_TIMEOUT):
        return CliError(
            "Prefect's local API did not start in time (no PREFECT_API_URL is set, so this "
            "command starts one in its own process)",
            "run the command again (a first run with a new PREFECT_HOME is the slowest), "
            "allow more seconds with PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or "
            "start a server once (`pilotscale serve` or `prefect server start`) and set "
            "PREFECT_API_URL",
            exit_code=Exit.failure,
        )
    if _is_a(exc, "prefect.exceptions", "PrefectException"):
        return CliError(f"Prefect: {exc}", exit_code=Exit.failure)
    return None


def _is_a(exc: BaseException, module: str, name: str) -> bool:
    """Whether `exc` is an instance of `module.name`, without importing `module`: an
    exception of that class exists only once its module is loaded, and a read-only
    command must not pay for SQLAlchemy's, pydantic's or Prefect's import just to check
    (`pilotscale --help` and `status` answer in well under a second)."""
    loaded = sys.modules.get(module)
    cls = getattr(loaded, name, None) if loaded is not None else None
    return isinstance(cls, type) and isinstance(exc, cls)


def done_with_warnings(warnings: Sequence[str], hint: str = "") -> None:
    """The command did what it could but not all of it (messages not delivered, a run
    left queued): each warning and the hint as one line on stderr, then exit 5. Nothing
    to warn about: nothing printed, and the command goes on to exit 0."""
    if not warnings:
        return
    for warning in warnings:
        err_console.print(f"warning: {plain(warning, one_line=True)}", markup=False)
    if hint:
        err_console.print(f"hint: {plain(hint, one_line=True)}", markup=False)
    raise typer.Exit(code=Exit.warnings)


def store_error(exc: StoreError) -> CliError:
    """The store cannot be used (unreachable, full, locked, damaged): a failure, exit 1."""
    return CliError(str(exc), exc.hint, exit_code=Exit.failure)


@contextmanager
def one_line_failures() -> Iterator[None]:
    """What fails inside as expected (a refusal, the store, a setting) leaves as the
    CliError to print; a bug goes on as it is. The operator commands and the flows run
    in this process both go through here, so they answer the same failure alike."""
    try:
        yield
    except Refusal as exc:
        raise refused(exc) from None
    except Exception as exc:
        failure = expected_failure(exc)
        if failure is None:
            raise
        raise failure from None


def _bad_settings(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = "PILOTSCALE_" + "_".join(str(part) for part in error["loc"]).upper()
        problems.append(f"{name}: {error['msg']}")
    return "bad setting " + "; ".join(problems)
