"""What values a metric can take: the range declared under `metrics:`, or the one its unit
gives.

- a fraction (unit 'fraction' or 'rate', or no unit and a name ending in '_rate'): 0 to 1;
- a percentage (unit 'percent' or '%'): 0 to 100, kept in percent (thresholds too);
- anything else is a count or an amount (people, hours, tickets, a ratio): 0 to 1e9.

`min` and `max` under `metrics:` replace either end, up to ±VALUE_LIMIT. A value outside
its metric's range is refused where it comes in (an import row, a pulled source) and left
out of every figure the store computes, so one absurd number can neither pass a gate nor
make a sum overflow: with every counted value within VALUE_LIMIT, a sum over any number of
rows a store can hold stays finite.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from pilotscale.plan.schema import VALUE_LIMIT, Plan

CEILING = 1e9  # default upper end for a count or an amount
PERCENT_UNITS = frozenset({"%", "percent"})
FRACTION_UNITS = frozenset({"fraction", "rate"})

_FRACTION = "a fraction: write 62 % as 0.62, or declare the metric with unit: percent"
_PERCENT = "a percentage"
_AMOUNT = "a count or amount: declare min or max under metrics for another range"
_DECLARED = "declared under metrics"


@dataclass(frozen=True)
class Domain:
    low: float
    high: float
    why: str = _AMOUNT  # where the range comes from, for messages

    def contains(self, value: float) -> bool:
        # NaN compares false and the ends are finite, so neither NaN nor ±inf is inside.
        return self.low <= value <= self.high

    def problem(self, metric: str, value: float) -> str | None:
        """None when `value` is inside; otherwise a sentence a person can act on."""
        if self.contains(value):
            return None
        return (
            f"{shown(value)} is outside the range of {metric}, "
            f"{shown(self.low)} to {shown(self.high)} ({self.why})"
        )


def domain_of(plan: Plan, name: str) -> Domain:
    """The range of a metric or KPI name of `plan`; an unknown name gets its unit's default."""
    metric = next((m for m in plan.metrics if m.name == name), None)
    kpi = next((k for k in plan.program.kpis if k.name == name), None)
    unit = (metric.unit if metric and metric.unit else kpi.unit if kpi else "").strip().lower()
    if unit in PERCENT_UNITS:
        domain = Domain(0.0, 100.0, _PERCENT)
    elif unit in FRACTION_UNITS or (not unit and name.endswith("_rate")):
        domain = Domain(0.0, 1.0, _FRACTION)
    else:
        domain = Domain(0.0, CEILING, _AMOUNT)
    if metric is None or (metric.min is None and metric.max is None):
        return domain
    return Domain(
        domain.low if metric.min is None else metric.min,
        domain.high if metric.max is None else metric.max,
        _DECLARED,
    )


def domains(plan: Plan, names: Iterable[str]) -> dict[str, Domain]:
    return {name: domain_of(plan, name) for name in names}


def shown(value: float) -> str:
    """A number as a message shows it: 1,000,000,000 rather than 1e+09, 1e+308 as such."""
    if math.isfinite(value) and value == int(value) and abs(value) <= VALUE_LIMIT:
        return f"{int(value):,}"
    return f"{value:g}"
