"""Starting mini-pilots: wave rules and max_active hold; force overrides those (with a
recorded reason) but never a blackout or a paused program; rollout starts in order."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlmodel import Session, select

from pilotscale.db import _create_engine, get_engine, normalize_url
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.start import StartRefused, rollout_program, start_department
from pilotscale.models import Program
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, plan_dict


# d001, d002: wave 1; d003, d004: wave 2 (after wave 1 reaches piloting); d005: wave 3.
@pytest.fixture
def waves(engine: Engine) -> Engine:
    h.apply(engine, plan_dict(5, per_wave=2, default_reaches="piloting", max_active=3))
    return engine


def start(engine: Engine, name: str, *, force: bool = False, reason: str = "", at: int = 0) -> bool:
    return start_department(
        engine=engine, department=name, now=h.day(at), actor=LEAD, reason=reason, force=force
    ).started


def refusal(engine: Engine, name: str, **kwargs: object) -> str:
    with pytest.raises(StartRefused) as refused:
        start(engine, name, **kwargs)  # type: ignore[arg-type]
    return str(refused.value)


def to_piloting(engine: Engine, *names: str) -> None:
    for name in names:
        h.prepare_passes(engine, name, now=h.day(1))
    run_readiness_check(engine=engine, now=h.PILOTING_AT)
    assert all(h.states(engine)[n][0] == "piloting" for n in names)


def test_a_wave_waits_for_the_previous_one_to_reach_its_phase(waves: Engine) -> None:
    why = refusal(waves, "d003")
    assert "wave 2 starts when every wave-1 department has reached 'piloting'" in why
    assert "d001 (planned)" in why

    start(waves, "d001")
    start(waves, "d002")
    assert "not there yet: d001 (preparing), d002 (preparing)" in refusal(waves, "d003")

    to_piloting(waves, "d001", "d002")
    assert start(waves, "d003", at=3)
    assert h.states(waves)["d003"] == ("preparing", "active")


def test_max_active_caps_departments_in_flight(waves: Engine) -> None:
    start(waves, "d001")
    start(waves, "d002")
    to_piloting(waves, "d001", "d002")
    start(waves, "d003", at=3)

    why = refusal(waves, "d004", at=3)
    assert "3 department(s) already in flight, the most rollout.max_active allows (3)" in why
    assert "d001, d002, d003" in why
    assert h.states(waves)["d004"] == ("planned", "active")
    assert h.events(waves, "d004") == ["apply"]


def test_force_overrides_wave_rules_and_max_active_with_a_recorded_reason(
    engine: Engine,
) -> None:
    h.apply(engine, plan_dict(5, per_wave=2, default_reaches="piloting", max_active=1))
    start(engine, "d001")

    assert "--force needs a --reason" in refusal(engine, "d003", force=True)
    assert start(engine, "d003", force=True, reason="the CEO asked for it")

    last = h.transitions(engine, "d003")[-1]
    assert (last.event, last.actor, last.to_phase) == ("start", LEAD, "preparing")
    assert last.reason.startswith("the CEO asked for it (forced past: wave 2 starts when")
    assert "rollout.max_active allows (1)" in last.reason


def test_force_never_overrides_a_blackout(engine: Engine) -> None:
    data = plan_dict(2)
    data["departments"][0]["blackout"] = [
        {"start": "2026-11-01", "end": "2026-11-15", "reason": "quarter close"}
    ]
    h.apply(engine, data)

    why = refusal(engine, "d001", force=True, reason="urgent")
    assert "'d001' is in a blackout from 2026-11-01 to 2026-11-15 (quarter close)" in why
    assert h.events(engine, "d001") == ["apply"]
    assert h.day(14).date() == date(2026, 11, 16)
    assert start(engine, "d001", at=14)  # the day after the blackout


def test_force_never_overrides_a_paused_program(waves: Engine) -> None:
    with Session(waves) as session, session.begin():
        program = session.exec(select(Program)).one()
        program.paused = True
        session.add(program)

    assert "the program is paused" in refusal(waves, "d001", force=True, reason="urgent")
    assert rollout_program(engine=waves, now=h.T0).started == []
    assert h.outbox(waves) == []


def test_starting_a_started_department_changes_nothing(waves: Engine) -> None:
    assert start(waves, "d001")
    before = h.store_state(waves)

    assert not start(waves, "d001", at=1)
    assert h.store_state(waves) == before


def test_rollout_starts_the_eligible_departments_in_wave_order(waves: Engine) -> None:
    first = rollout_program(engine=waves, now=h.T0)
    assert [s.department for s in first.started] == ["d001", "d002"]
    assert set(first.waiting) == {"d003", "d004", "d005"}
    assert "wave 2 starts when every wave-1 department has reached 'piloting'" in " ".join(
        first.waiting["d003"]
    )

    again = rollout_program(engine=waves, now=h.day(1))
    assert again.started == []

    to_piloting(waves, "d001", "d002")
    second = rollout_program(engine=waves, now=h.day(3))
    # One slot left under max_active 3: wave 2 starts by name, d004 waits for capacity.
    assert [s.department for s in second.started] == ["d003"]
    assert "max_active" in " ".join(second.waiting["d004"])
    assert "wave 3" in " ".join(second.waiting["d005"])

    starts = [
        (t.event, t.actor, t.reason)
        for name in ("d001", "d002", "d003")
        for t in h.transitions(waves, name)
        if t.event == "start"
    ]
    assert starts == [
        ("start", "scheduler", "wave 1 may start"),
        ("start", "scheduler", "wave 1 may start"),
        ("start", "scheduler", "wave 2 may start"),
    ]
    # Each started department onboarded its champions, once.
    assert h.recipients(waves, "champion_welcome") == {
        f"{d}-champ{n}" for d in ("d001", "d002", "d003") for n in (1, 2)
    }


def test_max_active_holds_when_a_start_races_a_rollout(store_url: str) -> None:
    """The scheduler's rollout has decided to start d001 and is about to write it when a
    lead starts d002 by hand: with max_active 1 only one of them may start."""
    engine = get_engine(store_url)
    h.apply(engine, plan_dict(3, max_active=1))
    rollout_engine = _create_engine(normalize_url(store_url))
    lead_done = threading.Event()

    def wait_for_the_lead(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT")):  # its first write
            lead_done.wait(timeout=30)

    event.listen(rollout_engine, "before_cursor_execute", wait_for_the_lead)
    outcome: dict[str, Any] = {}

    def scheduler() -> None:
        try:
            outcome["rollout"] = rollout_program(engine=rollout_engine, now=h.T0)
        except BaseException as exc:
            outcome["rollout"] = exc

    thread = threading.Thread(target=scheduler)
    thread.start()
    try:
        time.sleep(0.5)  # the rollout has read and decided, and waits at its first write
        assert start(engine, "d002")
    finally:
        lead_done.set()
        thread.join(timeout=60)
        rollout_engine.dispose()

    in_flight = [n for n, (phase, _) in h.states(engine).items() if phase != "planned"]
    assert in_flight == ["d002"]
    result = outcome["rollout"]
    assert not isinstance(result, BaseException), result
    assert result.started == []
    assert "max_active" in " ".join(result.waiting["d001"])
