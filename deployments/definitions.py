"""Every pilotscale deployment, defined once.

`pilotscale serve` and `pilotscale deploy` both build from `all_specs`, so a deployment's
name, parameters, schedule and concurrency limit live here and nowhere else. Schedules
are not written here either: they come from the applied plan (`program.schedules` in the
program's time zone), so changing the plan and re-applying it is how a lead moves the
readiness check; serve notices on its own, deploy picks it up when run again.

Names are `<flow>/<program>` for everything that acts on one program (a store may hold
several), and `dispatch-notifications/all-programs` for the one dispatcher of the outbox.

Concurrency: every deployment runs at most one flow run at a time (a server-side limit,
so it holds across any number of workers). What happens to a run that arrives while
another is running depends on what the run is:

- CANCEL_NEW for the reconcilers that re-read everything each time (readiness-check,
  dispatch-notifications, weekly-digest): the run already in progress, or the next
  scheduled one, does the same work, so a second run adds nothing, and cancelling it is
  what keeps a slow run from piling scheduled runs up behind it.
- ENQUEUE for requests that carry their own intent (start-department for one
  department by one person, rollout-program asked for by a lead): each one must happen,
  one after the other. They are made by people, so they cannot pile up faster than
  people ask.

No deployment records an approval: Prefect's open-source server has no user identity,
so an approver typed into its UI or API would be anyone's claim. Approvals are recorded
with `pilotscale approve`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from prefect import Flow
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.flows.dispatch_notifications import dispatch_notifications
from pilotscale.flows.readiness_check import readiness_check
from pilotscale.flows.rollout_program import rollout_program_flow
from pilotscale.flows.start_department import start_department_flow
from pilotscale.flows.weekly_digest import weekly_digest_flow
from pilotscale.models import Program
from pilotscale.plan.schema import Plan, Schedules
from pilotscale.store.queries import load_program_plan

ALL_PROGRAMS = "all-programs"
DISPATCH_EVERY = timedelta(minutes=1)
TAGS = ["pilotscale"]


@dataclass(frozen=True)
class ProgramSchedules:
    """What a program's deployments take from its applied plan."""

    program: str
    timezone: str = "UTC"
    readiness_check: str = Schedules().readiness_check
    weekly_digest: str = Schedules().weekly_digest

    @classmethod
    def from_plan(cls, plan: Plan) -> ProgramSchedules:
        return cls(
            program=plan.program.name,
            timezone=plan.program.timezone,
            readiness_check=plan.program.schedules.readiness_check,
            weekly_digest=plan.program.schedules.weekly_digest,
        )


@dataclass(frozen=True)
class DeploymentSpec:
    flow: Flow[..., Any]
    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)
    cron: str | None = None
    timezone: str | None = None
    interval: timedelta | None = None
    collision: ConcurrencyLimitStrategy = ConcurrencyLimitStrategy.ENQUEUE
    program: str | None = None

    @property
    def flow_name(self) -> str:
        return self.flow.name

    @property
    def full_name(self) -> str:
        return f"{self.flow.name}/{self.name}"

    def schedules(self) -> list[Schedule]:
        if self.cron is not None:
            return [Cron(self.cron, timezone=self.timezone)]
        if self.interval is not None:
            return [Interval(self.interval)]
        return []

    def schedule_text(self) -> str:
        if self.cron is not None:
            return f"cron '{self.cron}' ({self.timezone})"
        if self.interval is not None:
            return f"every {int(self.interval.total_seconds())}s"
        return "on demand"

    async def to_runner(self, *, work_pool: str | None = None) -> RunnerDeployment:
        """The Prefect deployment; the module-path entrypoint lets any process that has
        pilotscale installed (a served subprocess, a worker on another machine) run it."""
        tags = [*TAGS, self.program] if self.program else list(TAGS)
        return await self.flow.ato_deployment(
            name=self.name,
            description=self.description,
            parameters=self.parameters,
            schedules=self.schedules(),
            # Explicit: re-deploying (or serving again) re-activates a schedule that an
            # earlier `pilotscale serve` paused on its way out.
            paused=False,
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=self.collision),
            tags=tags,
            work_pool_name=work_pool,
            entrypoint_type=EntrypointType.MODULE_PATH,
        )


def program_specs(schedules: ProgramSchedules) -> list[DeploymentSpec]:
    program = schedules.program
    on_program = {"program": program}
    reconcile, request = ConcurrencyLimitStrategy.CANCEL_NEW, ConcurrencyLimitStrategy.ENQUEUE
    return [
        DeploymentSpec(
            readiness_check,
            program,
            f"Readiness check of {program}: advance, hold or block every active department.",
            on_program,
            cron=schedules.readiness_check,
            timezone=schedules.timezone,
            collision=reconcile,
            program=program,
        ),
        DeploymentSpec(
            weekly_digest_flow,
            program,
            f"Weekly digest of {program} for its sponsors, executives and lead.",
            on_program,
            cron=schedules.weekly_digest,
            timezone=schedules.timezone,
            collision=reconcile,
            program=program,
        ),
        DeploymentSpec(
            start_department_flow,
            program,
            f"Start one department's mini-pilot in {program} (a lead names it and themselves).",
            on_program,
            collision=request,
            program=program,
        ),
        DeploymentSpec(
            rollout_program_flow,
            program,
            f"Start every department of {program} whose wave may start now.",
            on_program,
            collision=request,
            program=program,
        ),
    ]


def shared_specs() -> list[DeploymentSpec]:
    return [
        DeploymentSpec(
            dispatch_notifications,
            ALL_PROGRAMS,
            "Send every notification that is due, for every program in the store.",
            interval=DISPATCH_EVERY,
            collision=ConcurrencyLimitStrategy.CANCEL_NEW,
        )
    ]


def all_specs(programs: Sequence[ProgramSchedules]) -> list[DeploymentSpec]:
    specs = shared_specs()
    for schedules in sorted(programs, key=lambda s: s.program):
        specs += program_specs(schedules)
    return specs


def load_program_schedules(*, engine: Engine) -> list[ProgramSchedules]:
    """The schedules of every program in the store, from each one's applied plan."""
    with Session(engine) as session:
        programs = session.exec(select(Program).order_by(col(Program.name))).all()
        return [
            ProgramSchedules.from_plan(load_program_plan(session=session, program=p))
            for p in programs
        ]
