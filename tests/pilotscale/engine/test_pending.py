"""`pending_actions`: what one person must do now, across departments."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilotscale.core.permissions import NotAllowed
from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine import operator
from pilotscale.engine.pending import pending_actions
from pilotscale.links import Purpose
from tests.pilotscale.web.example import NOW, build_store


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    build_store(engine)
    yield engine  # type: ignore[misc]
    dispose_engines()


def kinds(engine: Engine, person: str) -> list[tuple[str, str, str]]:
    return [
        (a.purpose.value, a.department, a.gate)
        for a in pending_actions(engine=engine, person=person, now=NOW)
    ]


def test_a_champion_must_acknowledge_until_they_do(store: Engine) -> None:
    assert kinds(store, "ana.ruiz") == [("acknowledge", "hr", "")]

    operator.acknowledge(engine=store, department="hr", champion="ana.ruiz", by="ana.ruiz", now=NOW)

    assert kinds(store, "ana.ruiz@acme.example") == []


def test_an_owner_must_attest_the_gates_they_own_that_do_not_pass(store: Engine) -> None:
    before = kinds(store, "raul.vega")
    assert ("attest", "sales", "use-cases-developed") in before
    assert ("attest", "sales", "sponsor-commitment") in before
    assert all(department == "sales" for _, department, _ in before)

    operator.attest(
        engine=store,
        department="sales",
        gate="use-cases-developed",
        by="raul.vega",
        evidence="wiki",
        now=NOW,
    )

    assert ("attest", "sales", "use-cases-developed") not in kinds(store, "raul.vega")


def test_an_approver_must_decide_until_they_approved_this_visit(store: Engine) -> None:
    wanted = ("decide", "customer-service", "executive-go-ahead")
    assert wanted in kinds(store, "elena.garcia")
    assert wanted in kinds(store, "maria.lopez")

    operator.approve(
        engine=store,
        department="customer-service",
        gate="executive-go-ahead",
        by="elena.garcia",
        comment="go",
        now=NOW + timedelta(hours=1),
    )

    assert wanted not in kinds(store, "elena.garcia")
    assert wanted in kinds(store, "maria.lopez")  # the other approver still has to


def test_each_action_carries_the_visit_for_its_link(store: Engine) -> None:
    found = pending_actions(engine=store, person="ana.ruiz", now=NOW)

    assert found[0].purpose is Purpose.acknowledge
    assert found[0].visit.startswith("2026-11-02T")
    assert "<script>" in found[0].department_title  # data, escaped only when rendered


def test_someone_not_in_the_plan_is_refused(store: Engine) -> None:
    with pytest.raises(NotAllowed):
        pending_actions(engine=store, person="nobody@acme.example", now=NOW)
