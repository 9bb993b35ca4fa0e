"""Finding the deployment a command should run, on a real Prefect server."""

from __future__ import annotations

import asyncio

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from pilotscale.deployments.definitions import ProgramSchedules, program_specs
from pilotscale.deployments.local_server import LocalServer
from pilotscale.deployments.trigger import AmbiguousProgram, find_deployment

pytestmark = pytest.mark.slow


async def _register_and_find(server: LocalServer) -> dict[str, object]:
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        for program in ("amb-one", "amb-two"):
            [digest] = [
                s
                for s in program_specs(ProgramSchedules(program))
                if s.flow_name == "weekly-digest"
            ]
            await (await digest.to_runner()).aapply()
        async with get_client() as client:
            named = await find_deployment(client, "weekly-digest", "amb-two")
            missing = await find_deployment(client, "weekly-digest", "amb-three")
            undeployed = await find_deployment(client, "no-such-flow", None)
            try:
                await find_deployment(client, "weekly-digest", None)
                ambiguous = ""
            except AmbiguousProgram as exc:
                ambiguous = str(exc)
    return {
        "named": named.name if named else None,
        "missing": missing,
        "undeployed": undeployed,
        "ambiguous": ambiguous,
    }


def test_the_program_picks_the_deployment_and_several_need_one(
    prefect_server: LocalServer,
) -> None:
    found = asyncio.run(_register_and_find(prefect_server))

    assert found["named"] == "amb-two"
    assert found["missing"] is None  # not deployed: the command runs the flow here
    assert found["undeployed"] is None
    # Other tests on the shared server may have deployed programs too.
    assert str(found["ambiguous"]).startswith("weekly-digest is deployed for several programs (")
    assert "amb-one, amb-two" in str(found["ambiguous"])
    assert str(found["ambiguous"]).endswith("); name the one you mean with --program")
