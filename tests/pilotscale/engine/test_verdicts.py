"""One way to read verdicts: the readiness check, `status`, the report and the digest
see the same gates, outcomes, owners and reasons for the same store and moment."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.phases import Event
from pilotscale.core.states import Outcome
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import prepare_check
from pilotscale.engine.digest_queue import department_lines
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.report.data import GateRow, build_report
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, plan_dict

CHECK = h.day(10)


def _store(engine: Engine) -> None:
    """d001 and d002 piloting with some of what they need; d002 paused; the rest not started."""
    h.into_piloting(engine, plan_dict(3), departments=["d001", "d002"])
    h.observe(engine, "d001", [0.2, 0.3, 0.2], start=CHECK - timedelta(hours=5))
    h.complete(engine, "d002", "power", now=CHECK - timedelta(hours=1))
    operator.operate(
        engine=engine,
        department="d002",
        event=Event.pause,
        actor=cli_actor(LEAD),
        reason="support on leave",
        now=CHECK - timedelta(hours=1),
        program=None,
    )


def test_the_check_status_report_and_digest_read_the_same_verdicts(engine: Engine) -> None:
    _store(engine)
    errors = {"weekly_active_rate": "HTTP 500 from the source"}

    prepared = prepare_check(engine=engine, now=CHECK, metric_errors=errors)
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        shown = read_verdicts(session=session, view=view, now=CHECK, metric_errors=errors)
        plain = read_verdicts(session=session, view=view, now=CHECK)
        report = build_report(session=session, view=view, now=CHECK, metric_errors=errors)
        lines = department_lines(session=session, view=view, now=CHECK)

    # status shows paused departments too (what a resume would meet); the check only the
    # active ones, and for those it decides on exactly what status shows.
    assert set(shown) == {"d001", "d002"}
    assert set(prepared.verdicts) == {"d001"}
    assert prepared.verdicts["d001"] == shown["d001"]
    decision = next(d for d in prepared.decisions if d.department == "d001")
    assert decision.verdict == shown["d001"].verdict
    assert decision.reason == shown["d001"].why

    # A failed source makes its gates pending with the reason, wherever they are read.
    weekly = next(g for g in shown["d001"].gates if g.gate == "weekly-active")
    assert weekly.outcome is Outcome.pending
    assert "HTTP 500" in weekly.reason
    assert next(g for g in plain["d001"].gates if g.gate == "weekly-active").outcome is (
        Outcome.failed
    )

    rows = {d.name: d for d in report.departments}
    for name, read in shown.items():
        assert rows[name].gates == tuple(GateRow.of(g) for g in read.gates)
        assert rows[name].overall == str(read.outcome)
    assert {d.name: d.held for d in report.departments if d.started} == {
        "d001": True,
        "d002": True,
    }

    held_by = {line.name: line.held_by for line in lines}
    assert len(held_by["d001"]) == len(plain["d001"].holding) > 0
    assert held_by["d003"] == ()


def test_owners_are_named_as_the_plan_says_with_the_lead_for_implicit_gates(
    engine: Engine,
) -> None:
    _store(engine)
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        read = read_verdicts(session=session, view=view, now=CHECK, names=["d001"])

    assert set(read) == {"d001"}
    soak = next(g for g in read["d001"].gates if g.gate == "piloting-min-soak")
    assert soak.owner == view.plan.program.lead
    assert soak.owner_name == view.plan.person(view.plan.program.lead).name
    assert soak.title != soak.gate  # the phase's own title for its implicit soak gate


def test_reading_beside_on_a_second_connection_gives_the_same_verdicts(engine: Engine) -> None:
    """`parallel=True` (status) reads the training figures and the daily roll-up on
    connections of their own: the verdicts are the ones read in line, day roll-ups and
    partial days included (hourly samples over ten days cross every window's edges)."""
    _store(engine)
    h.observe(
        engine,
        "d001",
        [0.1 + 0.01 * (i % 50) for i in range(240)],
        start=CHECK - timedelta(days=10),
    )
    h.complete(engine, "d001", "power", now=CHECK - timedelta(days=2))
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        in_line = read_verdicts(session=session, view=view, now=CHECK)
        beside = read_verdicts(session=session, view=view, now=CHECK, parallel=True)

    assert beside == in_line
    trained = in_line["d001"].facts.training
    assert any(fact.completed for fact in trained.values())  # the side read had rows to read
    metrics = in_line["d001"].facts.metrics
    assert any(agg.count > 24 for agg in metrics.values())  # windows longer than a day
