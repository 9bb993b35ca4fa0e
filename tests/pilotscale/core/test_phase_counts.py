"""The check's summary names its departments by phase: all of them in each phase,
whatever their status or action (not only those whose monitoring gates pass)."""

from __future__ import annotations

import pytest

from pilotscale.core.decisions import Action, Decision, phase_counts
from pilotscale.core.phases import DeptState
from pilotscale.core.states import Status

ORDER = ["planned", "preparing", "piloting", "scaling", "operating"]


def _decision(phase: str, action: Action = Action.hold, status: Status = Status.active) -> Decision:
    state = DeptState(phase, status)
    return Decision("d", action, state, state, None, 0, "")


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        ([], {}),
        # Two departments operating, one of whose monitoring fails: both count.
        (
            [_decision("operating", Action.monitor), _decision("operating", Action.hold)],
            {"operating": 2},
        ),
        # The plan's order, not the order the departments come in.
        (
            [_decision("operating"), _decision("planned", Action.skip), _decision("piloting")],
            {"planned": 1, "piloting": 1, "operating": 1},
        ),
        # Paused or blocked: still in their phase.
        (
            [
                _decision("piloting", Action.skip, Status.paused),
                _decision("piloting", Action.block, Status.blocked),
            ],
            {"piloting": 2},
        ),
        # A phase the plan no longer has comes last.
        ([_decision("legacy"), _decision("scaling")], {"scaling": 1, "legacy": 1}),
    ],
)
def test_departments_are_counted_by_phase_in_the_plans_order(
    decisions: list[Decision], expected: dict[str, int]
) -> None:
    counted = phase_counts(decisions, ORDER)

    assert counted == expected
    assert list(counted) == list(expected)
