"""Races on one department: two readiness checks, an approval and a pause released at the
same moment (threads behind a barrier). Whatever the interleaving, the store ends as
some serial order of the actions that reported success leaves it, never as a mix; an
action that lost the race is refused cleanly (ConcurrentUpdate, or a check that leaves
the department to the next check), and writes nothing."""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.phases import Event
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.start import start_department
from pilotscale.models import (
    Approval,
    Department,
    GateResultRecord,
    Notification,
    Transition,
)
from pilotscale.store.apply import apply_plan
from pilotscale.store.versioned import ConcurrentUpdate
from tests.plans import EXEC, LEAD, department_name, loaded, members, plan_dict
from tests.reliability.scenario import _observe, _prepare_passes

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=9)
TRIALS = 12
ACTIONS = ("check", "check", "approve", "pause")
# Every race and every serial order gets a department of its own, all in the same state,
# so one store serves them all (a fresh PostgreSQL database per order costs seconds).
DEPARTMENTS = 40


def _build(engine: Engine) -> list[str]:
    """DEPARTMENTS departments in piloting for 8 days, every gate passing but the approval."""
    names = [department_name(i) for i in range(1, DEPARTMENTS + 1)]
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded(plan_dict(DEPARTMENTS)), now=T0, actor=LEAD)
    for name in names:
        start_department(engine=engine, department=name, now=T0, actor=LEAD)
        _prepare_passes(engine, name, now=T0 + timedelta(hours=1))
    run_readiness_check(engine=engine, now=T0 + timedelta(days=1))
    for name in names:
        _observe(engine, name, [0.6, 0.7, 0.8], start=NOW - timedelta(hours=5))
        for person, segment in members(name).items():
            if segment == "power":
                operator.complete_training(
                    engine=engine, person=person, module="full-course", now=NOW
                )
        operator.attest(
            engine=engine,
            department=name,
            gate="guardrails",
            actor=cli_actor("compliance"),
            evidence="wiki",
            now=NOW,
        )
    return names


def _act(engine: Engine, department: str, action: str) -> bool:
    """Do `action`; True when it took effect, False when it lost a race cleanly."""
    if action == "check":
        report = run_readiness_check(engine=engine, now=NOW, departments=[department])
        return department not in report.conflicts
    if action == "approve":
        operator.approve(
            engine=engine,
            department=department,
            gate="go-ahead",
            actor=cli_actor(EXEC),
            comment="go",
            now=NOW,
        )
        return True
    try:
        operator.operate(
            engine=engine,
            department=department,
            event=Event.pause,
            actor=cli_actor(LEAD),
            reason="support on leave",
            now=NOW,
        )
    except ConcurrentUpdate:
        return False
    return True


def _outcome(engine: Engine, department: str) -> tuple[Any, ...]:
    """Everything the actions wrote about `department`, department names in message keys
    replaced by 'D' (its success story goes to every other department's champions), so
    that departments that went through the same story compare equal."""
    with Session(engine) as session:
        row = session.exec(select(Department).where(col(Department.name) == department)).one()
        moves = session.exec(
            select(
                Transition.event,
                Transition.from_phase,
                Transition.from_status,
                Transition.to_phase,
                Transition.to_status,
                Transition.actor,
            )
            .where(col(Transition.department_id) == row.id)
            .order_by(col(Transition.id))
        ).all()
        approvals = session.exec(
            select(Approval.gate, Approval.approver_key).where(
                col(Approval.department_id) == row.id
            )
        ).all()
        results = session.exec(
            select(
                GateResultRecord.phase,
                GateResultRecord.gate,
                GateResultRecord.outcome,
                GateResultRecord.check_key,
            ).where(col(GateResultRecord.department_id) == row.id)
        ).all()
        keys = session.exec(
            select(Notification.dedupe_key).where(col(Notification.department_id) == row.id)
        ).all()
    return (
        row.phase,
        row.status,
        row.consecutive_failures,
        row.last_check_key,
        tuple(moves),
        frozenset(approvals),
        frozenset(results),
        frozenset(re.sub(r"d\d{3}", "D", key) for key in keys),
    )


class SerialOutcomes:
    """Outcomes of every serial order of a set of actions, each on a fresh department."""

    def __init__(self, engine: Engine, departments: Iterator[str]) -> None:
        self.engine = engine
        self.departments = departments
        self.cache: dict[tuple[str, ...], set[tuple[Any, ...]]] = {}

    def of(self, actions: tuple[str, ...]) -> set[tuple[Any, ...]]:
        key = tuple(sorted(actions))
        if key not in self.cache:
            outcomes = set()
            for order in sorted(set(itertools.permutations(key))):
                department = next(self.departments)
                for action in order:
                    took = _act(self.engine, department, action)
                    assert took, f"{action} refused when run alone in {order}"
                outcomes.add(_outcome(self.engine, department))
            self.cache[key] = outcomes
        return self.cache[key]


def _race(engine: Engine, department: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """Run ACTIONS at once on `department`, each after its own short seeded delay past the
    barrier, so that the trials explore different interleavings; returns (actions that
    took effect, unexpected errors)."""
    barrier = threading.Barrier(len(ACTIONS))
    delays = [rng.uniform(0, 0.04) for _ in ACTIONS]
    done: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()

    def run(action: str, delay: float) -> None:
        barrier.wait()
        time.sleep(delay)
        try:
            took = _act(engine, department, action)
        except Exception as exc:  # anything but a clean refusal is a failure of the test
            with lock:
                errors.append(f"{action}: {type(exc).__name__}: {exc}")
            return
        if took:
            with lock:
                done.append(action)

    threads = [
        threading.Thread(target=run, args=pair) for pair in zip(ACTIONS, delays, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return done, errors


def test_checks_an_approval_and_a_pause_at_once_end_as_some_serial_order(
    engine: Engine, figure: Callable[[str], None]
) -> None:
    departments = iter(_build(engine))
    serial = SerialOutcomes(engine, departments)
    seen: set[tuple[Any, ...]] = set()
    refused = 0
    problems: list[str] = []
    for trial in range(TRIALS):
        department = next(departments)
        done, errors = _race(engine, department, random.Random(trial))
        problems += [f"trial {trial}: {e}" for e in errors]
        refused += len(ACTIONS) - len(done) - len(errors)
        outcome = _outcome(engine, department)
        seen.add(outcome)
        if outcome not in serial.of(tuple(done)):
            problems.append(
                f"trial {trial}: {sorted(done)} took effect, but {department} is in no serial "
                f"order of them: phase {outcome[0]}, status {outcome[1]}, moves {outcome[4]}"
            )

    everything = serial.of(ACTIONS)
    figure(
        f"{TRIALS} races of {len(ACTIONS)} actions, {refused} lost a race cleanly, "
        f"{len(seen)} distinct outcomes of {len(everything)} serial ones, "
        f"{len(problems)} mixed or failed"
    )
    assert problems == []
    # The serial orders really differ (approve before the checks advances, pause first
    # holds it), so membership is a real constraint.
    assert len(everything) >= 3
