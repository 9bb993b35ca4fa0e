"""The readiness check's one line says the report's words: a hold in the last phase is an
operating department being watched, not a held one, and operating counts both."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pilotscale.core.decisions import Action, Decision
from pilotscale.core.phases import DeptState
from pilotscale.core.states import Status
from pilotscale.engine.check import CheckReport

# (action, phase before) per department -> the line
CASES = [
    ([], "0 advanced, 0 held"),
    ([("advance", "piloting"), ("hold", "piloting")], "1 advanced, 1 held"),
    (
        [("monitor", "operating"), ("hold", "operating")],
        "0 advanced, 0 held, 2 operating (1 healthy, 1 watched)",
    ),
    (
        [("hold", "piloting"), ("block", "piloting"), ("monitor", "operating")],
        "0 advanced, 1 held, 1 blocked, 1 operating (1 healthy, 0 watched)",
    ),
    (
        [("hold", "operating"), ("hold", "operating")],
        "0 advanced, 0 held, 2 operating (0 healthy, 2 watched)",
    ),
]


@pytest.mark.parametrize(("moves", "line"), CASES)
def test_the_check_summary(moves: list[tuple[str, str]], line: str) -> None:
    report = CheckReport(
        program="p",
        check_key="2026-10-14",
        as_of=datetime(2026, 10, 14, tzinfo=UTC),
        decisions=[
            Decision(
                department=f"d{i}",
                action=Action(action),
                before=DeptState(phase, Status.active),
                after=DeptState(phase, Status.active),
                verdict=None,
                consecutive_failures=0,
                reason="",
            )
            for i, (action, phase) in enumerate(moves)
        ],
        final_phase="operating",
    )

    assert report.summary() == line
    tally = report.tally()
    assert tally["hold"] + tally["watched"] == sum(1 for a, _ in moves if a == "hold")
