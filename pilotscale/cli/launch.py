"""Where `start`, `check` and `rollout` run their flow: one decision, in one place.

With a Prefect server configured (PREFECT_API_URL) and the flow's deployment on it, the
flow runs there, through `run_deployment`, on whatever serves it; the command prints the
run's link and follows it to the end. Otherwise it runs here, in this process, against
the local store (what a single laptop needs, and what every test of the flows does).

Importing Prefect and the flows takes a second or two and Prefect's local API some eight
seconds more, where every other command answers in half a second: `prefect_starting`
says so on stderr meanwhile (a spinner at a terminal, one line otherwise).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pilotscale.cli.app import err_console
from pilotscale.cli.errors import CliError, done_with_warnings, one_line_failures, refused
from pilotscale.cli.text import guard_log_lines, plain
from pilotscale.refusal import Exit, Refusal

FlowCall = Callable[[], Coroutine[Any, Any, Any]]

LOADING = "loading Prefect…"
STARTING_LOCAL_API = "starting Prefect's local API (about 8 s)…"


class Starting:
    """What the command is waiting for while Prefect starts, on stderr: a spinner whose
    text follows `say` at a terminal; elsewhere (a log, a script's capture) only the
    local API's start as one line, the one wait long enough to wonder about. Never on
    stdout, where --json goes."""

    def __init__(self) -> None:
        self._status = err_console.status(LOADING) if err_console.is_terminal else None
        if self._status is not None:
            self._status.start()

    def say(self, line: str) -> None:
        if self._status is not None:
            self._status.update(line)
        else:
            err_console.print(line, markup=False, highlight=False)

    def done(self) -> None:
        """The spinner gone (a terminal's line left clean); safe to call again."""
        if self._status is not None:
            self._status.stop()
            self._status = None


@contextmanager
def prefect_starting() -> Iterator[Starting]:
    """Announce Prefect's start-up for the block; `launch` ends it once the flow can run."""
    starting = Starting()
    try:
        yield starting
    finally:
        starting.done()


@dataclass(frozen=True)
class Launched:
    """The flow's return value when it ran here; otherwise the remote run's summary line,
    and what to do when the run is still waiting for a worker after the command's wait."""

    result: Any = None
    remote_summary: str | None = None
    left_queued: str | None = None  # the hint: which worker to start

    @property
    def ran_here(self) -> bool:
        return self.remote_summary is None

    def report_remote(self, say: Callable[[str], None]) -> None:
        """Say how the remote run ended; a run still queued is done with a warning (exit
        5): the command did not do its work yet, and a script must not take it as done."""
        assert self.remote_summary is not None
        say(self.remote_summary)
        if self.left_queued is not None:
            done_with_warnings(["the run is still queued: nothing has run yet"], self.left_queued)


def launch(
    *,
    flow_name: str,
    program: str | None,
    parameters: dict[str, Any],
    here: FlowCall,
    starting: Starting | None = None,
) -> Launched:
    """Run `flow_name` through its deployment when a server has one, else call `here()`.
    `starting` (see `prefect_starting`) is done once the run can begin."""
    from pilotscale.deployments.trigger import api_url

    if api_url() is None:
        _start_local_api(starting)
        if starting is not None:
            starting.done()
        return Launched(result=run_here(here))
    if starting is not None:
        starting.done()
    remote = asyncio.run(_run_remote(flow_name, program, parameters))
    if remote is None:
        return Launched(result=run_here(here))
    return remote


def _start_local_api(starting: Starting | None) -> None:
    """Prefect's temporary API server, which the flow's first call to the API would start
    anyway (the same one: Prefect keeps one per process), started now, while announced."""
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if server.running:
        return
    if starting is not None:
        starting.say(STARTING_LOCAL_API)
    server.start()


def run_here(here: FlowCall) -> Any:
    """Run the flow in this process; an expected failure becomes the command's one line."""
    with one_line_failures(), _run_failures_withheld():
        return asyncio.run(here())


class _RunFailure(logging.Filter):
    """Drops Prefect's reports of a task or flow run failing (ERROR, with a traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run_log = record.name.startswith(("prefect.flow_runs", "prefect.task_runs"))
        return not (run_log and record.levelno >= logging.ERROR)


@contextmanager
def _run_failures_withheld() -> Iterator[None]:
    """While a flow runs here, its failure reaches the terminal only as the command's own
    line (a refusal, the store full or locked, a race lost), not as Prefect's report of
    it: a traceback per task and per flow, some 80 lines. The Prefect API still records
    them with the run; PILOTSCALE_DEBUG=1 shows them here too."""
    if os.environ.get("PILOTSCALE_DEBUG"):
        yield
        return
    import prefect  # noqa: F401 - sets up Prefect's console handler, which the filter goes on

    guard_log_lines()
    withheld = _RunFailure()
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(withheld)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(withheld)


async def _run_remote(
    flow_name: str, program: str | None, parameters: dict[str, Any]
) -> Launched | None:
    """The run's summary; None when the server has no such deployment."""
    import httpx
    from prefect.client.orchestration import get_client

    from pilotscale.deployments.trigger import (
        api_url,
        find_deployment,
        run_and_follow,
    )

    def created(name: str, url: str) -> None:
        # Plain print: a link must never be wrapped, and the line must show up at once.
        print(plain(f"{name}: flow run created, {url}", one_line=True), flush=True)

    try:
        async with get_client() as client:
            deployment = await find_deployment(client, flow_name, program)
            if deployment is None:
                return None
            run = await run_and_follow(
                client, deployment, flow_name, _sendable(parameters), on_created=created
            )
    except Refusal as exc:  # several programs have the deployment: name one
        raise refused(exc) from None
    except (httpx.TransportError, OSError) as exc:
        raise CliError(
            f"cannot reach the Prefect API at {api_url()}: {type(exc).__name__}; start the "
            "server, or unset PREFECT_API_URL to run here",
            exit_code=Exit.failure,
        ) from None
    except httpx.HTTPStatusError as exc:
        raise CliError(
            f"the Prefect API at {api_url()} refused: {exc.response.status_code}",
            exit_code=Exit.failure,
        ) from None
    if not run.finished:
        summary = (
            f"{run.name}: {run.state} — not finished yet (no worker picked it up, or another "
            f"run of {run.deployment} holds its slot); it goes on without waiting: {run.url}"
        )
        return Launched(remote_summary=summary, left_queued=_worker_hint(deployment))
    if not run.succeeded:
        why = run.message or f"see {run.url}"
        if "concurrency limit" in why:
            why = f"another run of {run.deployment} is in progress (one at a time): {run.url}"
            raise CliError(f"{run.deployment}: {run.state.lower()}: {why}", exit_code=Exit.conflict)
        raise CliError(f"{run.deployment}: {run.state.lower()}: {why}", exit_code=Exit.failure)
    return Launched(remote_summary=f"{run.name} ({run.state.lower()})")


def _worker_hint(deployment: Any) -> str:
    """What picks the run up: a worker on its deployment's pool, or `pilotscale serve`."""
    pool = getattr(deployment, "work_pool_name", None)
    if pool:
        return (
            f"start a worker for it: `prefect worker start --pool {pool}` (or check that no "
            "other run of it is still in progress)"
        )
    return (
        "start the process that serves it: `pilotscale serve` (or check that no other run "
        "of it is still in progress)"
    )


def _sendable(parameters: dict[str, Any]) -> dict[str, Any]:
    """Leave unset parameters to the deployment's defaults (e.g. its program)."""
    return {k: v for k, v in parameters.items() if v is not None}
