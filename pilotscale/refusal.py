"""The root of every domain refusal: the plan, the rules or the store's state say no.

A refusal is expected: it is the answer, not a bug. Whoever presents it catches this one
class: the CLI prints `message` as one line and exits with `exit_code`; a web layer
answers `http_status`. What is not a refusal (the store full or unreachable, a library's
error) stays with pilotscale.cli.errors.expected_failure, and anything else is a bug.

Every refusal exits 2, as the README and docs/reliability.md promise users and scripts
("every error is one line and exit code 2"); the kinds differ only in `http_status`.
"""

from __future__ import annotations

from typing import ClassVar


class Refusal(Exception):
    """Refused: the message says why, and what to do instead when there is something."""

    exit_code: ClassVar[int] = 2
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

    http_status = 404


class Conflict(Refusal):
    """Not in the state it is in now: a rule of the rollout, or a race lost to another run."""

    http_status = 409


class Invalid(Refusal):
    """The input (a plan, a file, a setting) cannot be used as written."""

    http_status = 422
