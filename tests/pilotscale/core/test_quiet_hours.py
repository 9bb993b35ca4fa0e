"""When a queued message may go: quiet hours (across midnight, across DST changes), urgent
events, and a person's digest day."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from pilotscale.core.quiet_hours import URGENT, Preferences, preferences, send_at
from pilotscale.plan.loader import load_plan_text
from tests.notifications.helpers import PLAN

BERLIN = "Europe/Berlin"
NIGHT = (time(20, 0), time(8, 0))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("case", "event", "now", "prefs", "expected"),
    [
        # 22:00 in Berlin (CET, UTC+1): held until 08:00 the next morning.
        (
            "evening",
            "gate_held",
            "2026-11-23T21:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-24T07:00",
        ),
        (
            "early morning",
            "gate_held",
            "2026-11-24T06:30",
            Preferences(BERLIN, NIGHT),
            "2026-11-24T07:00",
        ),
        (
            "daytime",
            "gate_held",
            "2026-11-24T11:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-24T11:00",
        ),
        (
            "window starts",
            "gate_held",
            "2026-11-23T19:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-24T07:00",
        ),
        (
            "window ended",
            "gate_held",
            "2026-11-24T07:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-24T07:00",
        ),
        (
            "just before",
            "gate_held",
            "2026-11-23T18:59",
            Preferences(BERLIN, NIGHT),
            "2026-11-23T18:59",
        ),
        (
            "no quiet hours",
            "gate_held",
            "2026-11-23T21:00",
            Preferences(BERLIN),
            "2026-11-23T21:00",
        ),
        # A window inside one day (a lunch break).
        (
            "lunch",
            "approval_reminder",
            "2026-11-24T12:00",
            Preferences(BERLIN, (time(12, 0), time(14, 0))),
            "2026-11-24T13:00",
        ),
        (
            "after lunch",
            "approval_reminder",
            "2026-11-24T13:00",
            Preferences(BERLIN, (time(12, 0), time(14, 0))),
            "2026-11-24T13:00",
        ),
        # The person's zone, not UTC: 22:00 UTC is 17:00 in New York.
        (
            "new york day",
            "gate_held",
            "2026-11-23T22:00",
            Preferences("America/New_York", NIGHT),
            "2026-11-23T22:00",
        ),
        (
            "new york night",
            "gate_held",
            "2026-11-24T03:00",
            Preferences("America/New_York", NIGHT),
            "2026-11-24T13:00",
        ),
        # Urgent events never wait.
        (
            "blocked",
            "department_blocked",
            "2026-11-23T21:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-23T21:00",
        ),
        (
            "escalation",
            "approval_escalation",
            "2026-11-23T21:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-23T21:00",
        ),
        (
            "delivery",
            "delivery_failure",
            "2026-11-23T21:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-23T21:00",
        ),
        # Clocks go forward on 2026-03-29 at 02:00 (CET to CEST): the night is shorter.
        (
            "spring night",
            "gate_held",
            "2026-03-28T21:00",
            Preferences(BERLIN, NIGHT),
            "2026-03-29T06:00",
        ),
        # A window ending at 02:30, a time that day does not have: it ends at the jump.
        (
            "spring gap",
            "gate_held",
            "2026-03-29T00:30",
            Preferences(BERLIN, (time(1, 0), time(2, 30))),
            "2026-03-29T01:00",
        ),
        # Clocks go back on 2026-10-25 at 03:00 (CEST to CET): the night is longer.
        (
            "autumn night",
            "gate_held",
            "2026-10-24T20:00",
            Preferences(BERLIN, NIGHT),
            "2026-10-25T07:00",
        ),
        # 02:30 happens twice that night: the window ends at the first one.
        (
            "autumn twice",
            "gate_held",
            "2026-10-24T22:30",
            Preferences(BERLIN, (time(0, 0), time(2, 30))),
            "2026-10-25T00:30",
        ),
    ],
)
def test_quiet_hours(case: str, event: str, now: str, prefs: Preferences, expected: str) -> None:
    assert send_at(event=event, now=utc(now), prefs=prefs) == utc(expected), case


FRIDAY = 4
MONDAY = 0


@pytest.mark.parametrize(
    ("case", "event", "now", "prefs", "expected"),
    [
        # Queued Monday 08:00 Berlin for a Friday person: Friday 08:00 (no quiet hours).
        (
            "friday",
            "weekly_digest",
            "2026-11-23T07:00",
            Preferences(BERLIN, None, FRIDAY),
            "2026-11-27T07:00",
        ),
        # With quiet hours, the morning is when they end.
        (
            "friday late riser",
            "weekly_digest",
            "2026-11-23T07:00",
            Preferences(BERLIN, (time(20, 0), time(9, 30)), FRIDAY),
            "2026-11-27T08:30",
        ),
        # Their day already, after the morning: now.
        (
            "monday",
            "weekly_digest",
            "2026-11-23T07:00",
            Preferences(BERLIN, None, MONDAY),
            "2026-11-23T07:00",
        ),
        # Their day, before the morning: that morning.
        (
            "monday early",
            "weekly_digest",
            "2026-11-23T05:00",
            Preferences(BERLIN, None, MONDAY),
            "2026-11-23T07:00",
        ),
        # Their day, but late in the evening inside quiet hours: the next morning.
        (
            "monday night",
            "weekly_digest",
            "2026-11-23T21:00",
            Preferences(BERLIN, NIGHT, MONDAY),
            "2026-11-24T07:00",
        ),
        # The digest day is the person's, in their zone: Friday 08:00 in New York.
        (
            "new york",
            "weekly_digest",
            "2026-11-23T07:00",
            Preferences("America/New_York", None, FRIDAY),
            "2026-11-27T13:00",
        ),
        # Only the digest waits for the day; other messages follow quiet hours only.
        (
            "not the digest",
            "gate_held",
            "2026-11-23T10:00",
            Preferences(BERLIN, NIGHT, FRIDAY),
            "2026-11-23T10:00",
        ),
        # No digest day: the day the schedule queues it.
        (
            "no day",
            "weekly_digest",
            "2026-11-23T07:00",
            Preferences(BERLIN, NIGHT),
            "2026-11-23T07:00",
        ),
        # Friday after the spring change: 08:00 CEST.
        (
            "after dst",
            "weekly_digest",
            "2026-03-23T07:00",
            Preferences(BERLIN, None, FRIDAY),
            "2026-03-27T07:00",
        ),
        (
            "across dst",
            "weekly_digest",
            "2026-03-27T09:00",
            Preferences(BERLIN, None, MONDAY),
            "2026-03-30T06:00",
        ),
    ],
)
def test_digest_day(case: str, event: str, now: str, prefs: Preferences, expected: str) -> None:
    assert send_at(event=event, now=utc(now), prefs=prefs) == utc(expected), case


def test_urgent_is_a_small_explicit_set_of_known_events() -> None:
    from pilotscale.notifications.catalog import EVENTS

    assert set(EVENTS) >= URGENT
    assert "gate_held" not in URGENT
    assert "weekly_digest" not in URGENT


def test_a_person_s_preferences_win_over_the_program_s() -> None:
    text = PLAN.replace(
        "  chat_channel: team-chat\n",
        "  chat_channel: team-chat\n  timezone: Europe/Berlin\n  quiet_hours: '21:00-07:00'\n"
        "  digest_day: wed\n",
    ).replace(
        "email: leo@example.com, roles: [lead, approver]",
        "email: leo@example.com, roles: [lead, approver], timezone: America/New_York, "
        "quiet_hours: '22:30-06:15', digest_day: Friday",
    )
    plan = load_plan_text(text).plan

    assert preferences(plan, plan.person("leo.lead")) == Preferences(
        "America/New_York", (time(22, 30), time(6, 15)), FRIDAY
    )
    assert preferences(plan, plan.person("ines.sponsor")) == Preferences(
        BERLIN, (time(21, 0), time(7, 0)), 2
    )
