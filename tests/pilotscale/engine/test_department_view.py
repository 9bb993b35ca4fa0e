"""`read_department`: one department's page, read in one session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.department_view import read_department
from pilotscale.store.queries import NotFound
from tests.pilotscale.web.example import NOW, build_store


def test_a_department_page(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    build_store(engine)
    operator.acknowledge(
        engine=engine,
        department="hr",
        champion="carmen.diaz",
        actor=cli_actor("carmen.diaz"),
        now=NOW,
    )

    page = read_department(engine=engine, department="hr", now=NOW)
    cs = read_department(engine=engine, department="customer-service", now=NOW)

    assert page.started
    assert page.verdict is not None
    assert [c.person for c in page.champions if c.acknowledged_at] == ["carmen.diaz"]
    assert {c.person for c in page.champions} == {"ana.ruiz", "carmen.diaz"}
    assert [t.event for t in page.history][-1] == "start"
    assert page.training == []  # training is assigned on entering piloting
    assert {(a.gate, a.approver) for a in cs.pending_approvals} == {
        ("executive-go-ahead", "elena.garcia"),
        ("executive-go-ahead", "maria.lopez"),
    }
    with pytest.raises(NotFound) as refused:
        read_department(engine=engine, department="finance", now=NOW)
    assert "sales" in refused.value.known
    dispose_engines()


def test_the_pages_history_tells_waivers_and_the_programs_pauses(tmp_path: Path) -> None:
    """A sponsor reading the page sees why a department waited or passed: the program's
    pause and resume and a gate's waiver and its revocation, among its phase changes, in
    time order (the same story as `pilotscale history`)."""
    from datetime import timedelta

    from pilotscale.engine.lead_actions import revoke_waiver, set_program_paused, waive

    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    build_store(engine)
    lead = cli_actor("maria.lopez")
    before = read_department(engine=engine, department="hr", now=NOW)
    assert before.verdict is not None
    gate = before.verdict.gates[0].gate
    hour = timedelta(hours=1)
    set_program_paused(engine=engine, paused=True, actor=lead, reason="audit week", now=NOW)
    set_program_paused(engine=engine, paused=False, actor=lead, reason="audit done", now=NOW + hour)
    waive(
        engine=engine,
        department="hr",
        gate=gate,
        actor=lead,
        reason="vendor sign-off pending",
        until=NOW + timedelta(days=7),
        now=NOW + 2 * hour,
    )
    revoke_waiver(
        engine=engine, department="hr", gate=gate, actor=lead, reason="signed", now=NOW + 3 * hour
    )

    page = read_department(engine=engine, department="hr", now=NOW + 4 * hour)

    events = [e.event for e in page.history]
    assert events[-4:] == ["program pause", "program resume", "waive", "revoke"]
    assert events[:-4] == [e.event for e in before.history]
    assert page.history[-2].reason.startswith(f"'{gate}' waived until ")
    assert [e.at for e in page.history] == sorted(e.at for e in page.history)
    dispose_engines()
