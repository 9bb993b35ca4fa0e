"""How the CLI fails: one clear line on stderr (and at most a one-line hint), never a
traceback. Exit code 2 for every expected failure: a refusal, an unknown name, the store
full, locked, unreachable or damaged, a bad setting, a race lost to another command;
1 for a bug (`unexpected ...`).

`expected_failure` is the one place that knows which exceptions are expected and what
each one says; the entry point, the in-process flow runs and the operator commands all
ask it.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from pilotscale.core.permissions import NotAllowed
from pilotscale.core.phases import TransitionError
from pilotscale.db import StoreError, store_failure
from pilotscale.engine.operator import Refused
from pilotscale.engine.start import StartRefused
from pilotscale.store.queries import NotFound
from pilotscale.store.versioned import ConcurrentUpdate


class CliError(Exception):
    """A user-facing failure. The message is printed as one line, then `hint` if any."""

    exit_code = 2

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class Unexpected(CliError):
    """A bug: still one line, with the way to its traceback."""

    exit_code = 1

    def __init__(self, exc: BaseException) -> None:
        super().__init__(
            f"unexpected {type(exc).__name__}: {exc} (set PILOTSCALE_DEBUG=1 for the traceback)"
        )


# Refusals whose message is already the sentence to print. ConcurrentUpdate is a race
# lost to another command (two starts at once): the store refused the second write.
_REFUSALS = (NotAllowed, TransitionError, StartRefused, Refused, ConcurrentUpdate)


def unknown_name(kind: str, name: str, known: Iterable[str]) -> CliError:
    """An error for an unknown department/gate/person that suggests the closest known name."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(sorted(known)[:12]) or "none"
    return CliError(f"unknown {kind} '{name}'{hint} (known: {listing})")


def expected_failure(exc: BaseException) -> CliError | None:
    """The CliError to print for `exc`, or None when `exc` is a bug."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, NotFound):
        return unknown_name(exc.kind, exc.name, exc.known)
    if isinstance(exc, _REFUSALS):
        return CliError(str(exc))
    if type(exc) is LookupError:  # no program in the store yet, or several to choose from
        return CliError(str(exc.args[0] if exc.args else exc))
    if isinstance(exc, StoreError):
        return CliError(str(exc), exc.hint)
    if isinstance(exc, DBAPIError):  # the store failed mid-command: full, locked, gone...
        failure = store_failure(exc)
        return CliError(str(failure), failure.hint)
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return CliError(_bad_settings(exc))
    prefect = sys.modules.get("prefect.exceptions")  # never imported just to check
    if prefect is not None and isinstance(exc, prefect.PrefectException):
        return CliError(f"Prefect: {exc}")
    return None


def _bad_settings(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        name = "PILOTSCALE_" + "_".join(str(part) for part in error["loc"]).upper()
        problems.append(f"{name}: {error['msg']}")
    return "bad setting " + "; ".join(problems)
