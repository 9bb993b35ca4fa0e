"""Whether a KPI's actual value meets its target: the one rule the report's KPI tables
(`metrics.kpis`) and the success stories (`core.stories`) both state."""

from __future__ import annotations


def target_met(*, actual: float | None, target: float | None, direction: str) -> bool | None:
    """At or above the target, or at or below it when lower is better (`direction`
    'down'); None while either value is unknown."""
    if actual is None or target is None:
        return None
    if direction == "down":
        return actual <= target
    return actual >= target
