"""Moments in imported data: ISO 8601 with or without a zone.

A moment without a zone is read in the program's time zone, because exports from
HR systems and LMSs are written in local time far more often than in UTC; a date
alone is midnight in that zone. Everything is returned as aware UTC.

A moment must also be plausible for the moment of the import or pull (`as_of`): at most
a day after it (clocks and zones disagree by hours, not by days; a later date is a typo
or a forged row that would count only once that day came) and at most ten years before
it (older data is not about a program like this one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EXAMPLE = "e.g. 2026-11-03, 2026-11-03T10:00 or 2026-11-03T10:00+01:00"
AHEAD = timedelta(days=1)
BEHIND = timedelta(days=3653)  # ten years


def parse_moment(value: object, zone: ZoneInfo) -> datetime:
    """`value` (text or a datetime/date from a database driver) as aware UTC.

    Raises ValueError with a message a person can act on.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time())
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError(f"is empty; expected an ISO 8601 date or time ({EXAMPLE})")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"'{_short(text)}' is not an ISO 8601 date or time ({EXAMPLE})"
            ) from None
    else:
        raise ValueError(f"expected an ISO 8601 date or time as text ({EXAMPLE})")
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise ValueError(f"'{_short(str(value))}' is out of range for a date") from None


def implausible(moment: datetime, as_of: datetime) -> str | None:
    """Why `moment` (aware) cannot be an observation known at `as_of`; None when it can."""
    if moment > as_of + AHEAD:
        return f"{_utc_text(moment)} is more than a day after {_utc_text(as_of)}"
    if moment < as_of - BEHIND:
        return f"{_utc_text(moment)} is more than ten years before {_utc_text(as_of)}"
    return None


def _utc_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
