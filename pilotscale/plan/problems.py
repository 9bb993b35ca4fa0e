"""What is wrong with a plan, each problem pinned to a file, a line and a field path."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pilotscale.refusal import Invalid

PathKey = tuple[str | int, ...]
ROOT_PATH = "(plan)"
# Control characters and line separators, which a key or value quoted in a message may
# hold: printed raw they would split one problem over several lines (or drive the
# terminal), so they are shown escaped, as Python writes them.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` on one line: control characters escaped (a newline becomes \\n)."""
    return _UNPRINTABLE.sub(lambda match: repr(match.group())[1:-1], text)


def format_path(path: Iterable[str | int]) -> str:
    """`("departments", 2, "headcount")` → `departments[2].headcount`; the root is `(plan)`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or ROOT_PATH


def quoted(value: object) -> str:
    """`'value'` for a message, unless it looks like a URL or credentials, which may be secret."""
    text = str(value)
    if "://" in text or ("@" in text and ":" in text):
        return "(a value that looks like a URL, not shown: URLs may hold secrets)"
    return f"'{text}'"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {printable(self.path)}: {printable(self.message)}"


class PlanError(Invalid):
    """A plan that cannot be used, with every problem found (not only the first)."""

    def __init__(self, problems: Iterable[Problem], *, warnings: Iterable[Problem] = ()) -> None:
        self.problems: list[Problem] = sorted(problems, key=lambda p: (p.line, p.path))
        # Said alongside the problems, so one run shows everything about the plan.
        self.warnings: list[Problem] = sorted(warnings, key=lambda p: (p.line, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))
