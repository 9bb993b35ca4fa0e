"""Who `rollout-program` records its starts for: the lead who asked, or the scheduler."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pilotscale.core.permissions import NotAllowed
from pilotscale.flows.rollout_program import _actor
from tests.pilotscale.engine.helpers import apply
from tests.plans import DEPUTY, LEAD, OUTSIDER, plan_dict


@pytest.fixture
def store(configured_store: Engine) -> Engine:
    """The store the flow's own `get_engine()` finds, with a plan applied."""
    apply(configured_store, plan_dict(2))
    return configured_store


def test_a_lead_is_recorded_by_person_id(store: Engine) -> None:
    assert _actor(f"{LEAD}@example.com", None) == LEAD
    assert _actor(f"{DEPUTY}@example.com", None) == DEPUTY


def test_without_a_name_it_is_the_scheduler(store: Engine) -> None:
    assert _actor(None, None) == "scheduler"


def test_anyone_else_is_refused(store: Engine) -> None:
    with pytest.raises(NotAllowed, match="may not roll out the program: only a lead may"):
        _actor(f"{OUTSIDER}@example.com", None)
    with pytest.raises(NotAllowed, match="is not a person in the plan"):
        _actor("stranger@example.com", None)
