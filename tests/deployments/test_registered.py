"""What `serve` and `deploy` print for a deployment: its schedule and next run, in its zone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

from pilotscale.deployments.registered import Registered, next_run, schedule_text

MONDAY_NOON_UTC = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_next_cron_run_is_in_the_programs_time_zone() -> None:
    weekdays_9 = CronSchedule(cron="0 9 * * 1-5", timezone="Europe/Madrid")

    after_noon = asyncio.run(next_run(weekdays_9, MONDAY_NOON_UTC))
    before_nine = asyncio.run(next_run(weekdays_9, datetime(2026, 11, 23, 7, 0, tzinfo=UTC)))

    assert after_noon is not None
    assert after_noon.isoformat() == "2026-11-24T09:00:00+01:00"
    assert before_nine is not None
    assert before_nine.astimezone(UTC) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_the_next_interval_run_follows_its_anchor() -> None:
    minutely = IntervalSchedule(
        interval=timedelta(minutes=1), anchor_date=MONDAY_NOON_UTC - timedelta(seconds=90)
    )

    assert asyncio.run(next_run(minutely, MONDAY_NOON_UTC)) == MONDAY_NOON_UTC + timedelta(
        seconds=30
    )


def test_one_line_says_what_runs_when() -> None:
    cron = CronSchedule(cron="0 8 * * 1", timezone="America/New_York")
    scheduled = Registered(
        "weekly-digest/acme",
        schedule_text(cron),
        datetime(2026, 11, 30, 13, 0, tzinfo=UTC).astimezone(ZoneInfo("America/New_York")),
        paused=False,
        limit=1,
        collision="CANCEL_NEW",
        work_pool="team",
    )
    on_demand = Registered("start-department/acme", "on demand", None, False, 1, "ENQUEUE", None)
    paused = Registered("readiness-check/acme", schedule_text(cron), None, True, None, None, None)

    assert scheduled.line() == (
        "weekly-digest/acme: cron '0 8 * * 1' (America/New_York), next run 2026-11-30 08:00 EST"
        "; at most 1 at a time (CANCEL_NEW); pool 'team'"
    )
    assert on_demand.line() == "start-department/acme: on demand; at most 1 at a time (ENQUEUE)"
    assert paused.line() == "readiness-check/acme: cron '0 8 * * 1' (America/New_York), paused"
