"""Flow run names that say what the run did (e.g. `readiness-check 2026-11-23: 2 advanced`)."""

from __future__ import annotations

from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run


async def rename_current_run(name: str) -> None:
    run_id = flow_run.get_id()
    if not run_id:
        return
    async with get_client() as client:
        await client.update_flow_run(UUID(run_id), name=name[:200])
