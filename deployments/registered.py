"""What the Prefect server holds for a deployment, as one line a person can read.

The line is built from the server's copy (schedule, time zone, limit), not from our
definitions, so what `serve` and `deploy` print is what the server will act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
from prefect.server.schemas import schedules as server_schedules


@dataclass(frozen=True)
class Registered:
    full_name: str
    schedule: str  # "cron '0 9 * * 1-5' (Europe/Madrid)", "every 60s" or "on demand"
    next_run: datetime | None
    paused: bool
    limit: int | None
    collision: str | None
    work_pool: str | None

    def line(self) -> str:
        when = "" if self.next_run is None else f", next run {_local(self.next_run)}"
        if self.paused:
            when = ", paused"
        limit = f"; at most {self.limit} at a time ({self.collision})" if self.limit else ""
        where = f"; pool '{self.work_pool}'" if self.work_pool else ""
        return f"{self.full_name}: {self.schedule}{when}{limit}{where}"


async def next_run(schedule: Any, now: datetime) -> datetime | None:
    """The first time at or after `now` that `schedule` (a client schedule) fires."""
    kinds: dict[type[Any], type[Any]] = {
        CronSchedule: server_schedules.CronSchedule,
        IntervalSchedule: server_schedules.IntervalSchedule,
    }
    server_kind = kinds.get(type(schedule))
    if server_kind is None:
        return None
    dates = await server_kind(**schedule.model_dump()).get_dates(n=1, start=now)
    return dates[0] if dates else None


def schedule_text(schedule: Any) -> str:
    if isinstance(schedule, CronSchedule):
        return f"cron '{schedule.cron}' ({schedule.timezone or 'UTC'})"
    if isinstance(schedule, IntervalSchedule):
        return f"every {int(schedule.interval.total_seconds())}s"
    return type(schedule).__name__


async def describe(deployment: DeploymentResponse, full_name: str, now: datetime) -> Registered:
    active = [s for s in deployment.schedules if s.active]
    schedule = active[0].schedule if active else None
    concurrency = deployment.concurrency_options
    return Registered(
        full_name=full_name,
        schedule=schedule_text(schedule) if schedule is not None else "on demand",
        next_run=await next_run(schedule, now) if schedule is not None else None,
        paused=bool(deployment.paused),
        limit=deployment.global_concurrency_limit.limit
        if deployment.global_concurrency_limit
        else None,
        collision=str(concurrency.collision_strategy.value) if concurrency else None,
        work_pool=deployment.work_pool_name,
    )


async def read_registered(client: PrefectClient, full_name: str) -> Registered:
    deployment = await client.read_deployment_by_name(full_name)
    return await describe(deployment, full_name, datetime.now(UTC))


def _local(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()
