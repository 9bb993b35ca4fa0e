"""`core.targets.target_met`, table-driven: the report's KPI tables and the success
stories say "met" by this one rule."""

from __future__ import annotations

import pytest

from pilotscale.core.targets import target_met


@pytest.mark.parametrize(
    ("actual", "target", "direction", "met"),
    [
        (0.6, 0.55, "up", True),
        (0.55, 0.55, "up", True),  # at the target is meeting it
        (0.5, 0.55, "up", False),
        (3.0, 4.0, "down", True),  # lower is better
        (4.0, 4.0, "down", True),
        (5.0, 4.0, "down", False),
        (None, 4.0, "up", None),  # no data yet
        (3.0, None, "down", None),  # no target set
    ],
)
def test_a_target_is_met_at_or_beyond_it_in_its_direction(
    actual: float | None, target: float | None, direction: str, met: bool | None
) -> None:
    assert target_met(actual=actual, target=target, direction=direction) is met
