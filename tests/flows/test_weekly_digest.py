"""The `weekly-digest` flow under Prefect: it queues the digest, sends it, names its run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Engine

from pilotscale.flows.weekly_digest import weekly_digest_flow
from pilotscale.notifications.digest_messages import recipients
from tests.flows.prefect_api import flow_run, flow_run_id
from tests.pilotscale.engine import helpers as h
from tests.plans import PROGRAM, loaded, plan_dict

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _plan() -> dict[str, Any]:
    data = plan_dict(2)
    data["program"]["kpis"] = [
        {"name": "weekly_active_rate", "title": "Weekly active rate", "unit": "fraction"}
    ]
    return data


def test_the_digest_goes_out_once_a_week(configured_store: Engine) -> None:
    data = _plan()
    h.into_piloting(configured_store, data)
    people = len(recipients(loaded(data).plan))

    state = asyncio.run(weekly_digest_flow(as_of=h.day(4), return_state=True))
    again = asyncio.run(weekly_digest_flow(as_of=h.day(4)))

    assert state.is_completed(), state
    result = state.result()
    assert (result["program"], result["recipients"], result["enqueued"]) == (
        PROGRAM,
        people,
        people,
    )
    assert again["enqueued"] == 0
    assert flow_run(flow_run_id(state)).name == (
        f"weekly-digest {PROGRAM} week of {result['week_start']}: "
        f"{people} queued for {people} people"
    )
    sent = h.outbox(configured_store, event="weekly_digest")
    assert len(sent) == people
    assert {n.status for n in sent} == {"sent"}  # no channel: the local folder
