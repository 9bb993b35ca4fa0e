"""`pilotscale serve`: every deployment, served from this one process with Prefect's Runner.

The Runner registers the deployments with the configured Prefect API and runs their
flow runs as subprocesses of this process. While it serves, the plan is re-read every
`reload_every` seconds: a changed schedule (or a newly applied program) is registered
again, so a lead who edits the plan and re-applies it does not have to restart anything.

SIGINT (Ctrl-C) and SIGTERM stop it the same way: the Runner stops polling, cancels
runs in flight, pauses the served schedules (so the server does not pile up late runs
for a process that is gone) and exits. Serving again un-pauses them. A second Ctrl-C
during that shutdown interrupts it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Sequence
from contextlib import suppress

import anyio
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound
from prefect.runner import Runner
from sqlalchemy import Engine

from pilotscale.deployments.definitions import (
    DeploymentSpec,
    ProgramSchedules,
    all_specs,
    load_program_schedules,
)
from pilotscale.deployments.registered import read_registered
from pilotscale.refusal import Conflict

Say = Callable[[str], None]
RUNNER_NAME = "pilotscale-serve"


class ServeConflict(Conflict, RuntimeError):
    """A deployment is already on a work pool of this server; serving would take it off."""


async def serve(
    *,
    engine: Engine,
    programs: Sequence[ProgramSchedules],
    say: Say,
    reload_every: float = 60.0,
) -> int:
    """Serve until SIGINT or SIGTERM; returns the number of deployments served."""
    stop = asyncio.Event()
    _on_signals(stop)
    runner = Runner(name=RUNNER_NAME, pause_on_shutdown=True)
    specs = all_specs(programs)
    await _refuse_pool_deployments(specs)
    served = {spec.full_name: spec for spec in specs}
    for spec in specs:
        await runner.aadd_deployment(await spec.to_runner())
    await _say_registered(say, list(served))
    say(f"serving {len(served)} deployments; Ctrl-C stops")

    async def reload_plan() -> None:
        current = list(programs)
        while not stop.is_set():
            with anyio.move_on_after(reload_every):
                await stop.wait()
            if stop.is_set():
                return
            try:
                current = await _reregister(current)
            except Exception as exc:  # the store or the API is briefly away: try next time
                say(f"could not re-read the plan ({type(exc).__name__}: {exc}); trying again")

    async def _reregister(current: list[ProgramSchedules]) -> list[ProgramSchedules]:
        fresh = await anyio.to_thread.run_sync(lambda: load_program_schedules(engine=engine))
        if fresh == current:
            return current
        changed = [s for s in all_specs(fresh) if _differs(served.get(s.full_name), s)]
        for spec in changed:
            await runner.aadd_deployment(await spec.to_runner())
            served[spec.full_name] = spec
        await _say_registered(say, [s.full_name for s in changed], prefix="updated ")
        return fresh

    async with anyio.create_task_group() as group:
        group.start_soon(runner.start)
        # The Runner installs its own SIGTERM handler (which exits from inside the
        # handler) when it starts; take it back so both signals stop in order below.
        while not runner.started:
            await asyncio.sleep(0.05)
        _on_signals(stop)
        group.start_soon(reload_plan)
        await stop.wait()
        say("stopping: cancelling runs in flight and pausing the served schedules...")
        _second_signal_interrupts()
        # Ends the Runner's polling; `runner.start` then returns by itself, after
        # pausing the schedules, and the group with it.
        await runner.astop()
    say("stopped")
    return len(served)


async def _refuse_pool_deployments(specs: Sequence[DeploymentSpec]) -> None:
    """Serving registers the deployments without a pool and pauses them on exit: on a
    team server that would silently stop what the workers run."""
    async with get_client() as client:
        for spec in specs:
            try:
                existing = await client.read_deployment_by_name(spec.full_name)
            except ObjectNotFound:
                continue
            if existing.work_pool_name:
                raise ServeConflict(
                    f"{spec.full_name} is deployed to work pool '{existing.work_pool_name}' on "
                    "this Prefect server, and its workers run it; serving it here would take "
                    "it off the pool. Use the workers, or another Prefect server"
                )


def _differs(before: DeploymentSpec | None, after: DeploymentSpec) -> bool:
    if before is None:
        return True
    return (before.cron, before.timezone, before.interval) != (
        after.cron,
        after.timezone,
        after.interval,
    )


async def _say_registered(say: Say, names: Sequence[str], prefix: str = "") -> None:
    async with get_client() as client:
        for name in names:
            registered = await read_registered(client, name)
            say(f"{prefix}{registered.line()}")


def _on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


def _second_signal_interrupts() -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(ValueError, RuntimeError):
            loop.remove_signal_handler(sig)
    signal.signal(signal.SIGINT, signal.default_int_handler)
