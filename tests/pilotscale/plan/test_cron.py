"""Cron expressions are checked field by field, with a reason a lead can act on."""

from __future__ import annotations

import json

import pytest

from pilotscale.plan.cron import CronProblem, check_cron
from pilotscale.plan.loader import load_plan_text
from pilotscale.plan.problems import PlanError
from tests.plans import plan_dict

VALID = [
    "0 9 * * 1-5",
    "0 8 * * 1",
    "* * * * *",
    "*/15 8-18 * * MON-FRI",
    "30 6 1,15 * *",
    "0 0 1 jan,jul *",
    "0 12 * * 0,7",
    "5-55/10 * * * *",
]

REFUSED = [
    ("0 25 * * 1", "hour 25 is out of range 0–23"),
    ("60 9 * * 1", "minute 60 is out of range 0–59"),
    ("0 9 32 * *", "day of month 32 is out of range 1–31"),
    ("0 9 0 * *", "day of month 0 is out of range 1–31"),
    ("0 9 * 13 *", "month 13 is out of range 1–12"),
    ("0 9 * * 8", "day of week 8 is out of range 0–7"),
    ("0 9 * *", "a cron has 5 fields (minute hour day-of-month month day-of-week), this one has 4"),
    ("0 9 * * * 2026", "this one has 6"),
    ("", "this one has 0"),
    ("x 9 * * *", "'x' in minute 'x' is not a number"),
    ("0 9 * * FUNDAY", "'FUNDAY' in day of week 'FUNDAY' is not a number or a name (SUN-SAT)"),
    ("*/0 * * * *", "step 0 in minute '*/0' must be at least 1"),
    ("*/x * * * *", "step 'x' in minute '*/x' is not a whole number"),
    ("0 18-8 * * *", "hour range '18-8' runs backwards"),
    ("0 9 1,,2 * *", "day of month has an empty entry"),
    ("0 9 L * *", "'L' in day of month 'L' is not a number"),
    ("0 9 * * 1#2", "'1#2' in day of week '1#2' is not a number"),
    ("5/10 * * * *", "a step needs '*' or a range before '/'"),
]


@pytest.mark.parametrize("expression", VALID)
def test_valid_crons_pass_unchanged(expression: str) -> None:
    assert check_cron(expression) == expression


@pytest.mark.parametrize(("expression", "reason"), REFUSED)
def test_each_fault_has_its_own_reason(expression: str, reason: str) -> None:
    with pytest.raises(CronProblem) as raised:
        check_cron(expression)
    assert reason in str(raised.value)


def test_a_plan_with_a_bad_cron_is_a_located_problem() -> None:
    """Was accepted by the old regular expression ("0 25 * * 1" has five fields of digits)."""
    data = plan_dict(1)
    data["program"]["schedules"] = {"readiness_check": "0 25 * * 1"}
    with pytest.raises(PlanError) as raised:
        load_plan_text(json.dumps(data, indent=1), "plan.yaml")
    messages = str(raised.value).splitlines()
    assert any(
        "program.schedules.readiness_check" in m and "hour 25 is out of range 0–23" in m
        for m in messages
    ), messages
    assert not any("[0-9*" in m for m in messages), "the regular expression leaked"
