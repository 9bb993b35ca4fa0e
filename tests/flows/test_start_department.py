"""The `start-department` and `rollout-program` flows under Prefect."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine

from pilotscale.core.permissions import NotAllowed
from pilotscale.engine.start import StartRefused
from pilotscale.flows.rollout_program import rollout_program_flow
from pilotscale.flows.start_department import start_department_flow
from tests.flows.prefect_api import flow_run, flow_run_id
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, plan_dict

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(flow: Any, **parameters: Any) -> tuple[str, dict[str, Any]]:
    state = asyncio.run(flow(return_state=True, dispatch=False, **parameters))
    if state.is_failed():
        state.result()  # raises what failed the run
    return flow_run(flow_run_id(state)).name, state.result()


@pytest.fixture
def store(configured_store: Engine) -> Engine:
    h.apply(configured_store, plan_dict(3, per_wave=2, default_reaches="piloting", max_active=2))
    return configured_store


def test_a_lead_starts_a_department(store: Engine) -> None:
    name, result = run(
        start_department_flow, department="d001", by=f"{LEAD}@example.com", as_of=h.T0
    )

    assert (result["started"], result["phase"]) == (True, "preparing")
    assert name == "start-department d001: started, preparing"
    last = h.transitions(store, "d001")[-1]
    assert (last.event, last.actor) == ("start", LEAD)
    assert h.recipients(store, "champion_welcome") == {"d001-champ1", "d001-champ2"}

    name, again = run(start_department_flow, department="d001", by=LEAD, as_of=h.day(1))
    assert (again["started"], name) == (False, "start-department d001: already started, preparing")
    assert h.events(store, "d001") == ["apply", "start"]


def test_only_a_lead_may_start_a_department(store: Engine) -> None:
    with pytest.raises(NotAllowed, match="may not start 'd001'"):
        run(start_department_flow, department="d001", by="d001-sponsor", as_of=h.T0)
    assert h.events(store, "d001") == ["apply"]


def test_a_refused_start_fails_the_run_with_the_reason(store: Engine) -> None:
    with pytest.raises(StartRefused, match="wave 2 starts when every wave-1 department"):
        run(start_department_flow, department="d003", by=LEAD, as_of=h.T0)

    _, forced = run(
        start_department_flow,
        department="d003",
        by=LEAD,
        force=True,
        reason="pilot sponsor insists",
        as_of=h.T0,
    )
    assert forced["started"]
    assert any("wave 2 starts" in item for item in forced["overridden"])
    assert "pilot sponsor insists (forced past: wave 2" in h.transitions(store, "d003")[-1].reason


def test_rollout_starts_what_may_start_and_names_the_rest(store: Engine) -> None:
    name, result = run(rollout_program_flow, as_of=h.T0)

    assert result["started"] == ["d001", "d002"]
    assert set(result["waiting"]) == {"d003"}
    assert name == "rollout-program: started d001, d002; 1 waiting"

    name, again = run(rollout_program_flow, as_of=h.day(1))
    assert again["started"] == []
    assert name == "rollout-program: started none; 1 waiting"
