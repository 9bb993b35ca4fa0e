"""How the CLI fails: one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class CliError(Exception):
    """A user-facing failure. The message is printed as-is; exit code 2."""

    exit_code = 2


def unknown_name(kind: str, name: str, known: Iterable[str]) -> CliError:
    """An error for an unknown department/gate/person that suggests the closest known name."""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = ", ".join(sorted(known)[:12]) or "none"
    return CliError(f"unknown {kind} '{name}'{hint} (known: {listing})")
