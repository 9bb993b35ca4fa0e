"""Small helpers shared by the plan tests: edit the valid plan, collect problem lines."""

from __future__ import annotations

import pytest

from pilotscale.plan.loader import load_plan_text
from pilotscale.plan.problems import PlanError


def edit(text: str, old: str, new: str) -> str:
    """Replace `old` by `new`; `old` must occur exactly once, so an edit can't silently miss."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def problems(text: str | bytes, filename: str = "plan.yaml") -> list[str]:
    """The `FILE:LINE: path: message` lines of the PlanError that loading `text` raises."""
    with pytest.raises(PlanError) as info:
        load_plan_text(text, filename)
    return [str(problem) for problem in info.value.problems]
