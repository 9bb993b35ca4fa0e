"""Plan durations ('30m', '12h', '14d', '2w'): parsed the same however often they are met
(they are cached by their text), and refused every time when malformed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pilotscale.plan.schema import format_duration, parse_duration

VALID = [
    ("30m", timedelta(minutes=30)),
    ("12h", timedelta(hours=12)),
    ("14d", timedelta(days=14)),
    ("2w", timedelta(weeks=2)),
    (" 3 d ", timedelta(days=3)),
    ("0m", timedelta(0)),
    (timedelta(hours=5), timedelta(hours=5)),
]
INVALID = ["", "2", "w", "2y", "1.5d", "-1d", "2 weeks", "2w2d", None, 14, ["2w"]]


@pytest.mark.parametrize(("value", "expected"), VALID)
def test_a_duration_is_a_number_and_a_unit(value: object, expected: timedelta) -> None:
    for _ in range(3):  # the cached answer is the parsed one
        assert parse_duration(value) == expected


@pytest.mark.parametrize("value", INVALID)
def test_anything_else_is_refused_every_time(value: object) -> None:
    for _ in range(3):
        with pytest.raises(ValueError, match="whole number and a unit"):
            parse_duration(value)


@pytest.mark.parametrize("text", ["30m", "12h", "3d", "2w"])
def test_a_duration_reads_back_as_written(text: str) -> None:
    assert format_duration(parse_duration(text)) == text
