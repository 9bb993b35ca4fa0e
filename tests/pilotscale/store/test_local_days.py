"""The adoption curve's local days (`store.impact._local_days`) are exactly what converting
each instant to the program's time zone gives, across clock changes and odd offsets."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from pilotscale.store.impact import _local_days

ZONES = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "America/Santiago",  # changes its clocks at midnight
    "America/Havana",  # likewise, at 01:00 / 00:00
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute daylight saving shift
    "Pacific/Chatham",  # +12:45 / +13:45
]
NOWS = [
    datetime(2026, 11, 23, 7, tzinfo=UTC),
    datetime(2026, 4, 6, 23, 30, tzinfo=UTC),
    datetime(2026, 9, 10, 3, 0, tzinfo=UTC),
]


@pytest.mark.parametrize("zone_name", ZONES)
def test_each_instant_gets_the_date_its_zone_gives_it(zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    tick = timedelta(microseconds=1)
    for now in NOWS:
        since = now - timedelta(weeks=12)
        day_of = _local_days(zone, since, now)
        # Every local midnight of the span, the instants either side, and a walk in steps
        # that fall on every minute of the hour over the weeks.
        edges = []
        day = since.astimezone(zone).date()
        while day <= now.astimezone(zone).date():
            start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
            edges += [start - tick, start, start + tick]
            day += timedelta(days=1)
        walk = [since + timedelta(minutes=37 * k, seconds=k % 60) for k in range(3300)]
        for at in [*edges, *walk, now]:
            if since < at <= now:
                assert day_of(at) == at.astimezone(zone).date(), (zone_name, at)
