"""--as-of: one rule for a moment without a zone, the program's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pilotscale.cli.errors import CliError
from pilotscale.cli.options import AS_OF_HELP, parse_as_of

CASES = [
    # (written, program time zone, moment in UTC)
    ("2026-12-07", "UTC", datetime(2026, 12, 7, 0, 0, tzinfo=UTC)),
    ("2026-12-07", "Europe/Madrid", datetime(2026, 12, 6, 23, 0, tzinfo=UTC)),
    ("2026-07-07", "Europe/Madrid", datetime(2026, 7, 6, 22, 0, tzinfo=UTC)),  # summer time
    ("2026-12-07T09:00", "America/New_York", datetime(2026, 12, 7, 14, 0, tzinfo=UTC)),
    (" 2026-12-07T09:00 ", "Asia/Tokyo", datetime(2026, 12, 7, 0, 0, tzinfo=UTC)),
    # A zone written wins over the program's.
    ("2026-12-07T09:00+01:00", "America/New_York", datetime(2026, 12, 7, 8, 0, tzinfo=UTC)),
    ("2026-12-07T09:00Z", "Europe/Madrid", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("written", "zone", "expected"), CASES)
def test_a_moment_without_a_zone_is_in_the_programs_time_zone(
    written: str, zone: str, expected: datetime
) -> None:
    moment = parse_as_of(written, zone=zone)

    assert moment == expected
    assert moment.tzinfo == UTC


@pytest.mark.parametrize("written", ["yesterday", "2026-13-01", "9999-12-31T23:00-05:00"])
def test_a_moment_that_cannot_be_read_is_one_clear_error(written: str) -> None:
    with pytest.raises(CliError) as info:
        parse_as_of(written, zone="UTC")

    assert f"--as-of '{written}'" in str(info.value)


def test_no_as_of_is_now() -> None:
    before = datetime.now(UTC)
    assert before <= parse_as_of(None, zone="Europe/Madrid") <= datetime.now(UTC)


def test_the_help_states_the_rule() -> None:
    assert "in the program's time zone" in AS_OF_HELP
    assert "a time without a zone" in AS_OF_HELP.lower()
