"""`pilotscale deploy --work-pool NAME`: the same deployments, on a process work pool.

Each deployment's entrypoint is a module path (`pilotscale.flows.readiness_check.readiness_check`),
so there is no code to upload or pull: any `prefect worker start --pool NAME` running
in an environment where pilotscale is installed (this checkout, or `pip install` of the
same version on another machine) can run them, with that environment's
PILOTSCALE_DATABASE_URL and channel variables. Running it again updates every
deployment in place, which is how a changed schedule in the plan reaches the server.
"""

from __future__ import annotations

from collections.abc import Sequence

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.client.schemas.objects import WorkPool
from prefect.exceptions import ObjectNotFound
from prefect.workers.process import ProcessWorker

from pilotscale.deployments.definitions import DeploymentSpec
from pilotscale.deployments.registered import Registered, read_registered


async def ensure_work_pool(client: PrefectClient, name: str) -> tuple[WorkPool, bool]:
    """The work pool called `name`, created as a process pool if missing; True if created."""
    try:
        return await client.read_work_pool(name), False
    except ObjectNotFound:
        pass
    pool = await client.create_work_pool(
        WorkPoolCreate(
            name=name,
            type=ProcessWorker.type,
            description="pilotscale flows, run as local processes by `prefect worker start`.",
            base_job_template=ProcessWorker.get_default_base_job_template(),
        )
    )
    return pool, True


async def deploy(
    *, specs: Sequence[DeploymentSpec], work_pool: str
) -> tuple[WorkPool, bool, list[Registered]]:
    """Create or update every deployment on `work_pool`; returns the server's view of them."""
    async with get_client() as client:
        pool, created = await ensure_work_pool(client, work_pool)
        registered = []
        for spec in specs:
            deployment = await spec.to_runner(work_pool=work_pool)
            await deployment.aapply(work_pool_name=work_pool)
            registered.append(await read_registered(client, spec.full_name))
    return pool, created, registered
