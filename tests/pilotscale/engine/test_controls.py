"""The lead's controls on real stores: program pause/resume, waivers, blackouts, advisory
gates and per-department gate overrides, through the engine and the readiness check."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.permissions import NotAllowed
from pilotscale.engine.acting import Refused, cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.lead_actions import revoke_waiver, set_program_paused, waive
from pilotscale.engine.start import StartRefused, start_department
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.models import ProgramControl, Waiver
from pilotscale.store.snapshot import load_view
from pilotscale.store.waivers import program_controls
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, LEAD, plan_dict

DEPT = "d001"
CHECK = h.day(10)
SPONSOR = f"{DEPT}-sponsor"


def _all_but_the_approval(engine: Engine) -> None:
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=CHECK - timedelta(hours=5))
    h.complete(engine, DEPT, "power", now=CHECK - timedelta(hours=1))
    h.attest(engine, DEPT, "guardrails", now=CHECK - timedelta(hours=1))


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    h.into_piloting(engine)
    _all_but_the_approval(engine)
    return engine


def _gates(engine: Engine, at: Any) -> dict[str, Any]:
    with Session(engine) as session:
        view = load_view(session=session, program=None)
        verdicts = read_verdicts(session=session, view=view, now=at)
    return {g.gate: g for g in verdicts[DEPT].gates}


def _waive(engine: Engine, *, until: Any, now: Any, by: str = LEAD, gate: str = "go-ahead") -> Any:
    return waive(
        engine=engine,
        department=DEPT,
        gate=gate,
        actor=cli_actor(by),
        reason="the executive is away; agreed at the steering meeting",
        until=until,
        now=now,
    )


# --------------------------------------------------------------------------- waivers


def test_a_waived_gate_passes_and_sponsor_and_owner_are_told(piloting: Engine) -> None:
    _waive(piloting, until=CHECK + timedelta(days=3), now=CHECK - timedelta(hours=1))
    told = h.outbox(piloting, event="gate_waived")
    # The go-ahead's owner is the lead; the sponsor hears of it too.
    assert {n.recipient_key for n in told} == {SPONSOR, LEAD}
    gate = _gates(piloting, CHECK)["go-ahead"]
    assert gate.label == "waived"
    assert gate.passes
    assert "pending" in gate.reason
    assert "waived by" in gate.reason

    run_readiness_check(engine=piloting, now=CHECK)
    assert h.states(piloting)[DEPT] == ("scaling", "active")
    [row] = _rows(piloting, Waiver)
    assert (row.actor, row.identity_source, row.phase) == (LEAD, "cli", "piloting")


def test_an_expired_waiver_holds_again(piloting: Engine) -> None:
    _waive(piloting, until=CHECK - timedelta(days=1), now=CHECK - timedelta(days=2))
    assert _gates(piloting, CHECK - timedelta(days=1, hours=1))["go-ahead"].label == "waived"
    assert _gates(piloting, CHECK)["go-ahead"].label == "pending"
    run_readiness_check(engine=piloting, now=CHECK)
    assert h.states(piloting)[DEPT] == ("piloting", "active")


@pytest.mark.parametrize(
    ("by", "gate", "until_days", "refusal"),
    [
        (EXEC, "go-ahead", 3, NotAllowed),  # the sponsor is no lead
        (LEAD, "casual-trained", 3, Refused),  # not a gate of the current phase
        (LEAD, "go-ahead", -1, Refused),  # a waiver that ended already
    ],
)
def test_a_waiver_is_refused_and_nothing_is_recorded(
    piloting: Engine, by: str, gate: str, until_days: int, refusal: type[Exception]
) -> None:
    before = h.store_state(piloting)
    with pytest.raises(refusal):
        _waive(piloting, until=CHECK + timedelta(days=until_days), now=CHECK, by=by, gate=gate)
    assert h.store_state(piloting) == before


def _revoke(engine: Engine, *, now: Any, by: str = LEAD, gate: str = "go-ahead") -> Any:
    return revoke_waiver(
        engine=engine,
        department=DEPT,
        gate=gate,
        actor=cli_actor(by),
        reason="the executive is back",
        now=now,
    )


def test_a_revoked_waiver_holds_again_at_once_and_is_recorded(piloting: Engine) -> None:
    _waive(piloting, until=CHECK + timedelta(days=3), now=CHECK - timedelta(days=1))
    assert _gates(piloting, CHECK - timedelta(hours=2))["go-ahead"].label == "waived"

    done = _revoke(piloting, now=CHECK - timedelta(hours=1))

    assert "revoked (the executive is back): it counts again now" in done.message
    assert _gates(piloting, CHECK - timedelta(hours=1))["go-ahead"].label == "pending"
    run_readiness_check(engine=piloting, now=CHECK)
    assert h.states(piloting)[DEPT] == ("piloting", "active")
    waived, revoked = sorted(_rows(piloting, Waiver), key=lambda w: w.id)
    assert (revoked.actor, revoked.reason, revoked.gate) == (
        LEAD,
        "the executive is back",
        "go-ahead",
    )
    assert revoked.until <= revoked.at
    assert waived.until > revoked.at  # the waiver itself is kept as it was


def test_a_new_waiver_after_a_revocation_counts_again(piloting: Engine) -> None:
    _waive(piloting, until=CHECK + timedelta(days=3), now=CHECK - timedelta(days=2))
    _revoke(piloting, now=CHECK - timedelta(days=1))
    _waive(piloting, until=CHECK + timedelta(days=3), now=CHECK - timedelta(hours=1))

    assert _gates(piloting, CHECK)["go-ahead"].label == "waived"


@pytest.mark.parametrize(
    ("by", "waived_first"),
    [
        (EXEC, True),  # only a lead revokes
        (LEAD, False),  # nothing in force to revoke
    ],
)
def test_a_revocation_is_refused_and_nothing_is_recorded(
    piloting: Engine, by: str, waived_first: bool
) -> None:
    if waived_first:
        _waive(piloting, until=CHECK + timedelta(days=3), now=CHECK - timedelta(days=1))
    before = h.store_state(piloting)
    with pytest.raises(NotAllowed if by == EXEC else Refused):
        _revoke(piloting, now=CHECK, by=by)
    assert h.store_state(piloting) == before


def test_an_expired_waiver_cannot_be_revoked(piloting: Engine) -> None:
    _waive(piloting, until=CHECK - timedelta(days=1), now=CHECK - timedelta(days=2))
    with pytest.raises(Refused, match="no waiver in force"):
        _revoke(piloting, now=CHECK)


# --------------------------------------------------------------------------- program pause


def test_a_paused_program_is_skipped_until_a_lead_resumes_it(piloting: Engine) -> None:
    h.approve(piloting, DEPT, now=CHECK - timedelta(hours=1))
    done = set_program_paused(
        engine=piloting, paused=True, actor=cli_actor(LEAD), reason="vendor incident", now=CHECK
    )
    assert done.changed
    report = run_readiness_check(engine=piloting, now=CHECK)
    assert h.states(piloting)[DEPT] == ("piloting", "active")
    assert [d.reason for d in report.decisions if d.department == DEPT] == [
        "skipped: the program is paused (pilotscale program resume)"
    ]
    again = set_program_paused(
        engine=piloting, paused=True, actor=cli_actor(LEAD), reason="twice", now=CHECK
    )
    assert not again.changed

    set_program_paused(
        engine=piloting,
        paused=False,
        actor=cli_actor(LEAD),
        reason="incident closed",
        now=CHECK + timedelta(hours=1),
    )
    run_readiness_check(engine=piloting, now=CHECK + timedelta(hours=2))
    assert h.states(piloting)[DEPT] == ("scaling", "active")
    with Session(piloting) as session:
        view = load_view(session=session, program=None)
        rows = program_controls(session=session, program_id=view.program.id or 0)
    assert [(r.event, r.actor, r.reason) for r in rows] == [
        ("pause", LEAD, "vendor incident"),
        ("resume", LEAD, "incident closed"),
    ]


def test_only_a_lead_pauses_the_program_and_a_paused_program_starts_nothing(
    engine: Engine,
) -> None:
    h.apply(engine, plan_dict(2))
    with pytest.raises(NotAllowed):
        set_program_paused(
            engine=engine, paused=True, actor=cli_actor(EXEC), reason="why not", now=h.T0
        )
    assert _rows(engine, ProgramControl) == []
    set_program_paused(engine=engine, paused=True, actor=cli_actor(LEAD), reason="x", now=h.T0)
    with pytest.raises(StartRefused, match="resume the program first"):
        start_department(engine=engine, department=DEPT, now=h.T0, actor=LEAD)


# --------------------------------------------------------------------------- blackouts


def test_a_blackout_holds_the_advance_and_what_can_wait_and_the_next_check_catches_up(
    engine: Engine,
) -> None:
    data = plan_dict(1)
    first, last = (CHECK - timedelta(days=1)).date(), (CHECK + timedelta(days=2)).date()
    data["departments"][0]["blackout"] = [
        {"start": first.isoformat(), "end": last.isoformat(), "reason": "quarter close"}
    ]
    h.into_piloting(engine, data)
    h.pilot_passes(engine, DEPT, now=CHECK - timedelta(hours=1))
    before = len(h.outbox(engine))
    report = run_readiness_check(engine=engine, now=CHECK)
    [decision] = [d for d in report.decisions if d.department == DEPT]
    assert decision.action == "hold"
    assert decision.reason.startswith(f"in blackout until {last.isoformat()} (quarter close)")
    assert h.states(engine)[DEPT] == ("piloting", "active")
    assert len(h.outbox(engine)) == before  # no advance notice, no training, no reminder

    after = CHECK + timedelta(days=3)
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=after - timedelta(hours=5))
    run_readiness_check(engine=engine, now=after)
    assert h.states(engine)[DEPT] == ("scaling", "active")
    assert h.outbox(engine, event="department_advanced")
    assert h.outbox(engine, event="training_assigned")


# --------------------------------------------------------------------------- plan rules


def test_an_advisory_gate_is_shown_but_never_holds(engine: Engine) -> None:
    data = plan_dict(1)
    for gate in data["gates"]:
        if gate["name"] == "go-ahead":
            gate["advisory"] = True
    h.into_piloting(engine, data)
    _all_but_the_approval(engine)
    gate = _gates(engine, CHECK)["go-ahead"]
    assert gate.label == "pending (advisory)"
    run_readiness_check(engine=engine, now=CHECK)
    assert h.states(engine)[DEPT] == ("scaling", "active")
    # Notified all the same: its owner (the lead) hears that it does not pass.
    [told] = h.outbox(engine, event="gate_held")
    assert told.recipient_key == LEAD
    assert h.context(told)["gate"]["advisory"] is True


def test_a_department_override_of_a_threshold_holds_only_that_department(engine: Engine) -> None:
    data = plan_dict(2)
    data["departments"][0]["gate_overrides"] = {"weekly-active": {"threshold": 0.9}}
    h.into_piloting(engine, data, departments=("d001", "d002"))
    for name in ("d001", "d002"):
        h.pilot_passes(engine, name, now=CHECK - timedelta(hours=1))
    with Session(engine) as session:
        view = load_view(session=session, program=None)
        verdicts = read_verdicts(session=session, view=view, now=CHECK)
    thresholds = {
        name: next(g.threshold_text for g in v.gates if g.gate == "weekly-active")
        for name, v in verdicts.items()
    }
    assert thresholds == {
        "d001": ">= 0.90 over 1w, at least 3 samples",
        "d002": ">= 0.50 over 1w, at least 3 samples",
    }
    run_readiness_check(engine=engine, now=CHECK)
    assert h.states(engine)["d001"] == ("piloting", "active")
    assert h.states(engine)["d002"] == ("scaling", "active")


def _rows(engine: Engine, model: Any) -> list[Any]:
    with Session(engine) as session:
        return list(session.exec(select(model)).all())


def test_the_report_shows_waived_gates_and_blackouts(engine: Engine) -> None:
    from pilotscale.report.data import build_report
    from pilotscale.report.html import render_html
    from pilotscale.report.markdown import escape, render_markdown

    data = plan_dict(1)
    data["departments"][0]["blackout"] = [
        {"start": CHECK.date().isoformat(), "end": "2026-11-30", "reason": "quarter close"}
    ]
    h.into_piloting(engine, data)
    _all_but_the_approval(engine)
    _waive(engine, until=CHECK + timedelta(days=3), now=CHECK - timedelta(hours=1))
    with Session(engine) as session:
        view = load_view(session=session, program=None)
        report = build_report(session=session, view=view, now=CHECK)
    page, summary = render_html(report), render_markdown(report)
    assert "waived until 2026-11-15 09:00 UTC" in page
    assert "in blackout until 2026-11-30 (quarter close)" in page
    assert "## Waived gates and blackouts" in summary
    said = "Lead or executive approves: waived by Lead until 2026-11-15 09:00 UTC (the executive"
    assert escape(said) in summary
    assert escape("in blackout until 2026-11-30 (quarter close)") in summary
