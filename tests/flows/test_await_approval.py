"""`await-approval` before it suspends: it refuses what nobody could approve now.

The suspend, the resume from the UI and the plan check of the approver run end to end
in tests/deployments/test_end_to_end.py (suspending needs a deployment and a worker).
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from flows.await_approval import ApprovalInput, ApprovalRefused, _approvers, _pause_key
from pilotscale.store.queries import NotFound
from tests.pilotscale.engine.helpers import apply, day, into_piloting
from tests.plans import plan_dict


def test_an_approval_gate_of_the_current_phase_names_its_approvers(
    configured_store: Engine,
) -> None:
    into_piloting(configured_store)  # d001 piloting: its go-ahead is the lead's or the exec's

    title, approvers = _approvers("d001", "go-ahead", None)

    assert title == "Department 1"
    assert approvers == ["lead@example.com", "exec@example.com"]


def test_what_cannot_be_approved_now_is_refused_before_waiting(configured_store: Engine) -> None:
    apply(configured_store, plan_dict(2), now=day(0))

    with pytest.raises(ApprovalRefused, match="not a gate of d001's current phase 'planned'"):
        _approvers("d001", "go-ahead", None)
    with pytest.raises(ApprovalRefused, match="'use-cases' is not an approval gate"):
        _approvers("d001", "use-cases", None)
    with pytest.raises(NotFound, match="unknown department 'd009'"):
        _approvers("d009", "go-ahead", None)


def test_the_pause_key_is_one_prefect_accepts_and_stable_per_gate() -> None:
    key = _pause_key("customer.service_2", "Go-Ahead")

    assert key == "approval-customer-service-2-go-ahead"
    assert key == _pause_key("customer.service_2", "Go-Ahead")
    assert _pause_key("hr", "go-ahead") != _pause_key("sales", "go-ahead")


def test_the_form_asks_for_an_email_and_a_comment() -> None:
    schema = ApprovalInput.model_json_schema()

    assert set(schema["properties"]) == {"approver", "comment"}
    assert schema["required"] == ["approver"]
