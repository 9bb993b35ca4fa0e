"""Readiness checks racing on one store advance each department exactly once.

Each racer is a thread with its own engine (its own connections), as two scheduler
processes would be. The outcome must be the store a single check leaves behind:
the same transitions, gate results and outbox rows, nothing twice.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from pilotscale.core.messages import GROUPED
from pilotscale.core.phases import Event
from pilotscale.db import _create_engine, get_engine, normalize_url
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import CheckReport, apply_check, prepare_check
from pilotscale.engine.operator import operate
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, plan_dict

DEPARTMENTS = 12
CHECK = h.day(2)


def setup(engine: Engine) -> None:
    """Every department started; the odd ones pass every preparing gate, the even ones
    are held (their sponsor has not attested, one champion has not acknowledged)."""
    names = h.names(DEPARTMENTS)
    h.apply(engine, plan_dict(DEPARTMENTS))
    h.start(engine, names)
    for n, name in enumerate(names, start=1):
        if n % 2:
            h.prepare_passes(engine, name, now=h.day(1))
        else:
            who = f"{name}-champ1"
            h.operator.acknowledge(
                engine=engine, department=name, actor=cli_actor(who), now=h.day(1)
            )


@pytest.fixture
def serial(tmp_path: Path) -> dict[str, Any]:
    """What one uninterrupted check leaves behind (on its own SQLite store)."""
    engine = get_engine(f"sqlite:///{tmp_path / 'serial' / 'store.db'}")
    setup(engine)
    apply_check(engine=engine, prepared=prepare_check(engine=engine, now=CHECK))
    return h.store_state(engine)


def race(url: str, racers: int, *, decide_together: bool) -> list[CheckReport]:
    """Run `racers` checks at once. With `decide_together` every racer reads and decides
    before any of them writes, so all of them try to apply the same decisions."""
    engines = [_create_engine(normalize_url(url)) for _ in range(racers)]
    read, write = threading.Barrier(racers), threading.Barrier(racers)
    reports: list[CheckReport] = []
    errors: list[BaseException] = []

    def run(engine: Engine) -> None:
        try:
            read.wait()
            prepared = prepare_check(engine=engine, now=CHECK)
            if decide_together:
                write.wait()
            reports.append(apply_check(engine=engine, prepared=prepared))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in engines:
        engine.dispose()
    assert errors == []
    return reports


@pytest.mark.parametrize("decide_together", [True, False], ids=["same-read", "free-race"])
@pytest.mark.parametrize("racers", [2, 4])
def test_racing_checks_advance_each_department_once(
    store_url: str, serial: dict[str, Any], racers: int, decide_together: bool
) -> None:
    engine = get_engine(store_url)
    setup(engine)

    reports = race(store_url, racers, decide_together=decide_together)

    advances = Counter(t.department_id for t in h.transitions(engine) if t.event == "advance")
    assert sorted(advances.values()) == [1] * (DEPARTMENTS // 2)
    assert {n for n, (phase, _) in h.states(engine).items() if phase == "piloting"} == {
        name for n, name in enumerate(h.names(DEPARTMENTS), start=1) if n % 2
    }
    raced = h.store_state(engine)
    keys = [n[0] for n in raced["notifications"]]
    assert len(keys) == len(set(keys))
    assert len(raced["notifications"]) == len(serial["notifications"])
    assert raced == serial
    # Whoever lost a department says so instead of failing or applying it again.
    applied: Counter[str] = Counter()
    for report in reports:
        applied.update(
            d.department for d in report.decisions if d.department not in report.conflicts
        )
    assert all(applied[name] >= 1 for name in h.names(DEPARTMENTS))


def test_a_losing_racer_changes_nothing(engine: Engine) -> None:
    setup(engine)
    first = prepare_check(engine=engine, now=CHECK)
    second = prepare_check(engine=engine, now=CHECK)
    apply_check(engine=engine, prepared=first)
    after_first = h.store_state(engine)

    report = apply_check(engine=engine, prepared=second)

    assert sorted(report.conflicts) == h.names(DEPARTMENTS)
    assert h.store_state(engine) == after_first


@pytest.mark.parametrize("batch", [1, 5, 100], ids=["one-per-transaction", "batches", "one-batch"])
def test_a_department_changed_mid_check_costs_only_itself(
    engine: Engine, tmp_path: Path, batch: int
) -> None:
    """Departments share transactions; one that changed since the read rolls its batch
    back, and the batch is re-applied without it: the rest end as a serial check leaves
    them, whatever the batch size."""
    setup(engine)
    names = h.names(DEPARTMENTS)
    changed = names[2]  # an odd one: it would advance
    prepared = prepare_check(engine=engine, now=CHECK)
    before = h.outbox(engine)
    operate(
        engine=engine,
        department=changed,
        event=Event.pause,
        actor=cli_actor(LEAD),
        now=CHECK,
        reason="x",
    )

    report = apply_check(engine=engine, prepared=prepared, batch=batch)

    assert report.conflicts == [changed]
    assert h.states(engine)[changed] == ("preparing", "paused")
    assert h.events(engine, changed) == ["apply", "start", "pause"]
    advanced = {n for n, (phase, _) in h.states(engine).items() if phase == "piloting"}
    assert advanced == {name for n, name in enumerate(names, start=1) if n % 2} - {changed}
    advances = Counter(t.department_id for t in h.transitions(engine) if t.event == "advance")
    assert sorted(advances.values()) == [1] * len(advanced)
    # The changed department's rolled-back batch left none of its messages behind.
    changed_id = h.department(engine, changed).id
    assert [n.event for n in h.outbox(engine) if n.department_id == changed_id] == [
        n.event for n in before if n.department_id == changed_id
    ]
    # Each of the others told its people: in messages of its own or as items of the
    # check's lists of open items (core.grouping), which name no one department.
    told = {n.department_id for n in h.outbox(engine) if n.created_at == CHECK}
    for n in h.outbox(engine, event=GROUPED):
        told |= {h.department(engine, i["department"]["name"]).id for i in h.context(n)["items"]}
    assert {h.department(engine, n).id for n in names if n != changed} <= told
    assert changed_id not in told - {n.department_id for n in before}
