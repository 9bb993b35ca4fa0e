"""When a queued message may go: a person's quiet hours and digest day, pure.

A message that is not urgent and is queued while its recipient's local clock is inside
their quiet hours waits until the window ends, in their time zone; the weekly digest of
a person with a digest day waits for that day's morning (the end of their quiet hours,
or 08:00 without any). The outbox row's `next_attempt_at` carries the answer, so the
dispatcher needs nothing new: a held message is simply not due yet.

URGENT events never wait: they say something is broken or escalated now, and waiting
until the morning would defeat them. Everything else (a held gate, a reminder, an
approval request) is worth the same in the morning.

Times are wall-clock times in the person's zone: on the day clocks jump forward, a
window that ends inside the missing hour ends when the clock jumps; on the day they
fall back, a window ending in the repeated hour ends at its first occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pilotscale.plan.schema import WEEKDAYS, Person, Plan, parse_quiet_hours

URGENT = frozenset(
    {
        "department_blocked",
        "monitoring_regressed",
        "delivery_failure",
        "approval_escalation",
        "gate_stuck",
    }
)
DIGEST = "weekly_digest"
# A digest day's morning for someone without quiet hours.
MORNING = time(8, 0)
_MINUTE = timedelta(minutes=1)
_DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Preferences:
    timezone: str = "UTC"
    quiet: tuple[time, time] | None = None  # (start, end); start > end crosses midnight
    digest_day: int | None = None  # datetime.weekday(): 0 is Monday


def preferences(plan: Plan, person: Person) -> Preferences:
    """The person's own time zone, quiet hours and digest day, else the program's. No
    digest day anywhere: the digest goes the day the weekly_digest schedule queues it."""
    timezone, quiet, day = preference_texts(plan, person)
    return Preferences(
        timezone=timezone,
        quiet=parse_quiet_hours(quiet) if quiet else None,
        digest_day=WEEKDAYS.index(day) if day else None,
    )


def preference_texts(plan: Plan, person: Person) -> tuple[str, str | None, str | None]:
    """(time zone, quiet hours, digest day) as written, the person's own else the
    program's, as `preferences` reads them: what `people list` shows."""
    return (
        person.timezone or plan.program.timezone,
        person.quiet_hours or plan.program.quiet_hours,
        person.digest_day or plan.program.digest_day,
    )


def send_at(*, event: str, now: datetime, prefs: Preferences) -> datetime:
    """When a message of `event` queued at `now` may be sent to this person (UTC)."""
    if event in URGENT:
        return now
    zone = ZoneInfo(prefs.timezone)
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    when = aware
    if event == DIGEST and prefs.digest_day is not None:
        morning = prefs.quiet[1] if prefs.quiet else MORNING
        when = _digest_morning(aware, zone, prefs.digest_day, morning)
    if prefs.quiet is not None:
        when = quiet_until(when, zone, prefs.quiet) or when
    return now if when == aware else when


def quiet_until(now: datetime, zone: ZoneInfo, quiet: tuple[time, time]) -> datetime | None:
    """The end of the quiet window `now` is in (UTC), or None when it is in none."""
    start, end = quiet
    local = now.astimezone(zone)
    clock, today = local.time(), local.date()
    if start < end:
        inside = start <= clock < end
        ends_on = today
    else:  # crosses midnight: the evening part ends tomorrow, the morning part today
        inside = clock >= start or clock < end
        ends_on = today + timedelta(days=1) if clock >= start else today
    return wall_clock(ends_on, end, zone) if inside else None


def _digest_morning(now: datetime, zone: ZoneInfo, weekday: int, morning: time) -> datetime:
    local = now.astimezone(zone)
    ahead = (weekday - local.weekday()) % 7
    if ahead == 0 and local.time() >= morning:
        return now  # that day already, after its morning: now (quiet hours still apply)
    return wall_clock(local.date() + timedelta(days=ahead), morning, zone)


def wall_clock(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the clock in `zone` reads `at` or later on `day`."""
    wanted = datetime.combine(day, at)
    # fold=0: the first of a repeated time; for a time the clock skips, an instant after
    # the jump, from which we step back to the jump itself.
    instant = wanted.replace(tzinfo=zone).astimezone(UTC)
    for _ in range(_DAY_MINUTES):
        earlier = instant - _MINUTE
        if earlier.astimezone(zone).replace(tzinfo=None) < wanted:
            break
        instant = earlier
    return instant


__all__ = [
    "DIGEST",
    "MORNING",
    "URGENT",
    "Preferences",
    "preferences",
    "quiet_until",
    "send_at",
    "wall_clock",
]
