"""Metric ranges: the unit's default, the plan's min/max, and the plans that cannot work."""

from __future__ import annotations

import math

import pytest

from pilotscale.plan.domains import CEILING, domain_of
from pilotscale.plan.loader import load_plan_text
from pilotscale.plan.schema import VALUE_LIMIT, Plan
from tests.pilotscale.plan.conftest import VALID_PLAN
from tests.pilotscale.plan.helpers import edit, problems

FRACTION = (0.0, 1.0)
PERCENT = (0.0, 100.0)
AMOUNT = (0.0, CEILING)


def _plan_with(metric: str, kpi_unit: str | None = None, text: str = VALID_PLAN) -> str:
    """The valid plan with one more metric `m` (declared as `metric`), and a KPI `m`."""
    text = edit(
        text,
        "  - {name: weekly_active_rate, unit: fraction}\n",
        f"  - {{name: weekly_active_rate, unit: fraction}}\n  - {{name: m{metric}}}\n",
    )
    if kpi_unit is not None:
        text = edit(
            text,
            "    - {name: tickets_avoided, title: Tickets avoided, unit: tickets}\n",
            "    - {name: tickets_avoided, title: Tickets avoided, unit: tickets}\n"
            f"    - {{name: m, title: K, unit: '{kpi_unit}'}}\n",
        )
    return text


def _m(metric: str, kpi_unit: str | None = None) -> Plan:
    return load_plan_text(_plan_with(metric, kpi_unit)).plan


RANGE_CASES = [
    # (the rest of metric m's declaration, the unit of a KPI m or None, m's range)
    (", unit: fraction", None, FRACTION),
    (", unit: Rate", None, FRACTION),
    ("_rate", None, FRACTION),  # m_rate without a unit: the name says it is a rate
    ("_rate, unit: percent", None, PERCENT),
    (", unit: '%'", None, PERCENT),
    ("_rate, unit: per day", None, AMOUNT),  # a unit beats the name
    (", unit: ratio", None, AMOUNT),  # a ratio may exceed 1 (the budget projection does)
    (", unit: hours", None, AMOUNT),
    ("", None, AMOUNT),
    ("", "percent", PERCENT),  # the KPI's unit when the metric has none
    (", unit: fraction", "percent", FRACTION),  # the metric's own unit first
    (", unit: points, min: 1, max: 5", None, (1.0, 5.0)),
    (", max: 20000000000", None, (0.0, 2e10)),  # max alone: the unit's lower end stays
    (", unit: score, min: -100, max: 100", None, (-100.0, 100.0)),
    (", unit: percent, max: 50", None, (0.0, 50.0)),
    (", min: -1e15, max: 1e15", None, (-VALUE_LIMIT, VALUE_LIMIT)),
]


@pytest.mark.parametrize(("metric", "kpi_unit", "expected"), RANGE_CASES)
def test_a_metric_range_comes_from_min_max_or_the_unit(
    metric: str, kpi_unit: str | None, expected: tuple[float, float]
) -> None:
    name = "m_rate" if metric.startswith("_rate") else "m"

    domain = domain_of(_m(metric, kpi_unit), name)

    assert (domain.low, domain.high) == expected


def test_a_kpi_that_is_not_a_metric_has_its_unit_range() -> None:
    plan = load_plan_text(VALID_PLAN).plan

    domain = domain_of(plan, "tickets_avoided")

    assert (domain.low, domain.high) == AMOUNT


PROBLEM_CASES = [
    # (the rest of metric m's declaration, value, problem or None)
    (", unit: fraction", 1.0, None),
    (", unit: fraction", 0.0, None),
    (", unit: fraction", -0.0, None),
    (
        ", unit: fraction",
        17.5,
        "17.5 is outside the range of m, 0 to 1 (a fraction: write 62 % as 0.62, or declare "
        "the metric with unit: percent)",
    ),
    (", unit: percent", 100.0, None),
    (", unit: percent", 100.5, "100.5 is outside the range of m, 0 to 100 (a percentage)"),
    (
        ", unit: hours",
        1e308,
        "1e+308 is outside the range of m, 0 to 1,000,000,000 (a count or amount: declare min "
        "or max under metrics for another range)",
    ),
    (
        ", unit: people",
        -3.0,
        "-3 is outside the range of m, 0 to 1,000,000,000 (a count or amount: declare min or "
        "max under metrics for another range)",
    ),
    (", unit: hours", 1e9, None),
    (", min: 1, max: 5", 0.5, "0.5 is outside the range of m, 1 to 5 (declared under metrics)"),
    (", min: -100, max: 100", -100.0, None),
    (
        ", unit: fraction",
        float("nan"),
        "nan is outside the range of m, 0 to 1 (a fraction: "
        "write 62 % as 0.62, or declare the metric with unit: percent)",
    ),
    (
        ", min: -1e15, max: 1e15",
        float("inf"),
        "inf is outside the range of m, "
        "-1,000,000,000,000,000 to 1,000,000,000,000,000 (declared under metrics)",
    ),
]


@pytest.mark.parametrize(("metric", "value", "expected"), PROBLEM_CASES)
def test_a_value_outside_the_range_is_a_problem_that_says_the_range(
    metric: str, value: float, expected: str | None
) -> None:
    assert domain_of(_m(metric), "m").problem("m", value) == expected


# --------------------------------------------------------------------------- plans refused


def test_declared_bounds_are_checked_where_they_are_written() -> None:
    assert problems(_plan_with(", min: 5, max: 1")) == [
        "plan.yaml:21: metrics[1]: min 5 is above max 1"
    ]
    assert problems(_plan_with(", max: 1e16")) == [
        "plan.yaml:21: metrics[1].max: Input should be less than or equal to 1000000000000000"
    ]
    assert problems(_plan_with(", max: .inf")) == [
        "plan.yaml:21: metrics[1].max: Input should be less than or equal to 1000000000000000"
    ]


def test_a_min_above_what_the_unit_allows_leaves_no_value_and_is_refused() -> None:
    assert problems(_plan_with(", unit: fraction, min: 5")) == [
        "plan.yaml:21: metrics[1].min: metric 'm' can take no value: its range would be 5 to 1; "
        "declare both min and max"
    ]


def test_no_number_of_rows_at_the_limit_can_overflow_a_sum() -> None:
    # Row ids are 64-bit, so no store holds more than 2**63 rows: at the limit, their sum is
    # finite. This is why ranges make sums safe on every store.
    assert math.isfinite(VALUE_LIMIT * 2.0**63)
