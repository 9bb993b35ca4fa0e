"""The root of every domain refusal: the plan, the rules or the store's state say no.

A refusal is expected: it is the answer, not a bug. Whoever presents it catches this one
class: the CLI prints `message` as one line and exits with `exit_code`; a web layer
answers `http_status`. What is not a refusal (the store full or unreachable, a library's
error) stays with pilotscale.cli.errors.expected_failure, and anything else is a bug.

The exit codes are by kind, here and nowhere else: a new refusal gets its code (and its
HTTP status) from the kind it subclasses, so a script can tell "no such department" (3)
from "not now" (4) without reading the message. `Exit` is the whole table; the CLI's
`--help` and the README print it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class Exit(IntEnum):
    """What the `pilotscale` command's exit code means."""

    ok = 0
    failure = 1  # the store, Prefect or a channel failed; or a bug
    refused = 2  # a usage error, or a refusal: not allowed, or input that cannot be used
    not_found = 3  # an unknown department, gate, person, program, file or id
    conflict = 4  # not in the state it is in now, or a race lost to another run
    warnings = 5  # done, with warnings: messages not delivered, a run left queued


EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 failure, 2 usage error or refusal, 3 not found, "
    "4 conflict or lost race, 5 done with warnings (messages not delivered, a run left queued)."
)


class Refusal(Exception):
    """Refused: the message says why, and what to do instead when there is something."""

    exit_code: ClassVar[int] = Exit.refused
    http_status: ClassVar[int] = 400

    @property
    def message(self) -> str:
        """The refusal in one line: its first line, with the count of any further ones."""
        lines = [line for line in str(self).splitlines() if line.strip()] or [type(self).__name__]
        more = len(lines) - 1
        return lines[0] + (f" (and {more} more)" if more else "")


class Forbidden(Refusal):
    """This person may not do this."""

    http_status = 403


class Missing(Refusal):
    """An unknown name: nothing to act on."""

    exit_code = Exit.not_found
    http_status = 404


class Conflict(Refusal):
    """Not in the state it is in now: a rule of the rollout, or a race lost to another run."""

    exit_code = Exit.conflict
    http_status = 409


class Invalid(Refusal):
    """The input (a plan, a file, a setting) cannot be used as written."""

    http_status = 422
