"""Running a flow through its deployment: find it, create the run, follow it to the end.

Used by `pilotscale start`, `check` and `rollout` when a Prefect server is configured:
the run then happens on whatever serves the deployment (a worker, `pilotscale serve`),
with that machine's store and channels, and shows up in the UI like a scheduled one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from prefect.client.schemas.objects import DeploymentStatus, FlowRun, StateType
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.sorting import DeploymentSort
from prefect.deployments.flow_runs import arun_deployment
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL

from pilotscale.refusal import Refusal

SUCCESS = frozenset({StateType.COMPLETED})


class AmbiguousProgram(Refusal, LookupError):
    """Several programs have this deployment; the caller must name one."""

    def __init__(self, flow_name: str, programs: list[str]) -> None:
        self.programs = programs
        super().__init__(
            f"{flow_name} is deployed for several programs ({', '.join(programs)}); "
            "name the one you mean with --program"
        )


@dataclass(frozen=True)
class RemoteRun:
    id: UUID
    deployment: str
    url: str
    name: str
    state: str  # the state's name, e.g. "Completed", "Failed", "AwaitingConcurrencySlot"
    state_type: StateType | None
    message: str  # why it failed, without Prefect's "encountered an exception" framing
    finished: bool  # False: we stopped waiting; the run goes on without us

    @property
    def succeeded(self) -> bool:
        return self.state_type in SUCCESS


def api_url() -> str | None:
    """The configured Prefect API, or None for the in-process ephemeral one."""
    return PREFECT_API_URL.value() or None


def run_url(flow_run_id: UUID) -> str:
    base = PREFECT_UI_URL.value() or (api_url() or "").removesuffix("/api")
    return f"{base}/runs/flow-run/{flow_run_id}"


async def find_deployment(
    client: PrefectClient, flow_name: str, program: str | None
) -> DeploymentResponse | None:
    """`flow_name/program`, or the only deployment of `flow_name` when no program is named."""
    found = await client.read_deployments(
        flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
        # Explicit: this server version refuses the client's null defaults with a 422.
        limit=200,
        sort=DeploymentSort.NAME_ASC,
    )
    if program is not None:
        return next((d for d in found if d.name == program), None)
    if len(found) > 1:
        raise AmbiguousProgram(flow_name, sorted(d.name for d in found))
    return found[0] if found else None


async def run_and_follow(
    client: PrefectClient,
    deployment: DeploymentResponse,
    flow_name: str,
    parameters: dict[str, Any],
    *,
    on_created: Callable[[str, str], None],
    pickup_timeout: float = 60.0,
    timeout: float = 1800.0,
    poll: float = 0.5,
) -> RemoteRun:
    """Create a run of `deployment` and wait for its end; `on_created(name, url)` is called
    as soon as it exists. Waiting stops (the run goes on) when nothing picks it up within
    `pickup_timeout` (no worker, or another run holds the deployment's slot), or when it
    has not finished within `timeout`."""
    full_name = f"{flow_name}/{deployment.name}"
    flow_run = await arun_deployment(
        deployment.id, client=client, parameters=parameters, timeout=0, as_subflow=False
    )
    url = run_url(flow_run.id)
    on_created(full_name, url)
    if deployment.status == DeploymentStatus.NOT_READY:
        # Say it now rather than after the pickup timeout: nothing is polling for it.
        pickup_timeout = min(pickup_timeout, 20.0)
    started = time.monotonic()
    picked_up = False
    while True:
        flow_run = await client.read_flow_run(flow_run.id)
        state_type = flow_run.state.type if flow_run.state else None
        if state_type is not None and state_type.value in _FINAL:
            return _remote(flow_run, full_name, url, finished=True)
        picked_up = picked_up or state_type is not StateType.SCHEDULED
        waited = time.monotonic() - started
        if (not picked_up and waited > pickup_timeout) or waited > timeout:
            return _remote(flow_run, full_name, url, finished=False)
        await asyncio.sleep(poll)


_FINAL = frozenset(
    t.value for t in (StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED)
)


def _remote(flow_run: FlowRun, deployment: str, url: str, *, finished: bool) -> RemoteRun:
    state = flow_run.state
    return RemoteRun(
        id=flow_run.id,
        deployment=deployment,
        url=url,
        name=flow_run.name,
        state=(state.name or str(state.type.value)) if state else "unknown",
        state_type=state.type if state else None,
        message=_reason(state.message if state else None),
        finished=finished,
    )


def _reason(message: str | None) -> str:
    """'Flow run encountered an exception: StartRefused: cannot start ...' -> 'cannot start ...'"""
    text = (message or "").strip()
    framing = "Flow run encountered an exception: "
    if text.startswith(framing):
        text = text.removeprefix(framing)
        kind, sep, rest = text.partition(": ")
        if sep and kind.isidentifier():
            text = rest
    return text
