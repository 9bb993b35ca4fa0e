"""Cron expressions of a plan's schedules, checked field by field with a plain-language
reason ("hour 25 is out of range 0-23"), not by a regular expression.

The grammar is the standard five fields that both Prefect's scheduler (croniter) and
cronsim read the same way: numbers, names (JAN-DEC, SUN-SAT), `*`, ranges `a-b`, steps
`*/n` and `a-b/n`, and lists `a,b`. Extensions one reader has and the other lacks (`L`,
`#`, `?`, six fields) are refused rather than half-understood.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cronsim import CronSim, CronSimError

from pilotscale.refusal import Invalid


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] stands for low + i


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field(
        "month",
        1,
        12,
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    ),
    _Field("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_EXAMPLE = "e.g. '0 9 * * 1-5' (weekdays at 09:00)"


class CronProblem(Invalid, ValueError):
    """Why a cron expression is refused, in one sentence."""


def check_cron(expression: str) -> str:
    """`expression` unchanged if it is a valid five-field cron; CronProblem otherwise."""
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        raise CronProblem(
            f"a cron has 5 fields (minute hour day-of-month month day-of-week), "
            f"this one has {len(parts)}; {_EXAMPLE}"
        )
    for field, text in zip(_FIELDS, parts, strict=True):
        for item in text.split(","):
            _check_item(field, item)
    try:
        CronSim(" ".join(parts), datetime(2000, 1, 1))
    except CronSimError as exc:  # only what the grammar above lets through and cronsim refuses
        raise CronProblem(f"'{expression}' is not a cron expression cronsim reads ({exc})") from exc
    return expression


def _check_item(field: _Field, item: str) -> None:
    if not item:
        raise CronProblem(f"{field.name} has an empty entry (two commas, or a trailing one)")
    span, slash, step = item.partition("/")
    if slash:
        if not step.isdigit():
            raise CronProblem(f"step '{step}' in {field.name} '{item}' is not a whole number")
        if int(step) < 1:
            raise CronProblem(f"step {step} in {field.name} '{item}' must be at least 1")
    if span == "*":
        return
    start, dash, end = span.partition("-")
    first = _value(field, start, item)
    if dash:
        last = _value(field, end, item)
        if last < first:
            raise CronProblem(
                f"{field.name} range '{span}' runs backwards; write it from low to high"
            )
    elif slash:
        raise CronProblem(f"{field.name} '{item}': a step needs '*' or a range before '/'")


def _value(field: _Field, text: str, item: str) -> int:
    upper = text.upper()
    if upper in field.names:
        return field.low + field.names.index(upper)
    if not text.isdigit():
        known = f" or a name ({field.names[0]}-{field.names[-1]})" if field.names else ""
        raise CronProblem(f"'{text}' in {field.name} '{item}' is not a number{known}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise CronProblem(f"{field.name} {value} is out of range {field.low}–{field.high}")
    return value
