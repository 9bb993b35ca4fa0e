"""Moments in imported data: ISO 8601 with or without a zone.

A moment without a zone is read in the program's time zone, because exports from
HR systems and LMSs are written in local time far more often than in UTC; a date
alone is midnight in that zone. Everything is returned as aware UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

EXAMPLE = "e.g. 2026-11-03, 2026-11-03T10:00 or 2026-11-03T10:00+01:00"


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
    return moment.astimezone(UTC)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
