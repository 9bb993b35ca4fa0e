"""SIGKILL a readiness check and its dispatcher run at many points; the next run repairs
everything, nothing is lost, nothing happens twice (see crash_harness for the method)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from pilotscale.db import get_engine
from tests.reliability import scenario
from tests.reliability.crash_harness import (
    LOCAL,
    Figures,
    StoreCloner,
    check_deliveries,
    check_store,
    in_flight,
    kill_points,
    receivers,
    repair,
    rows,
    zygote,
)

pytestmark = pytest.mark.slow

DEPARTMENTS = 12
KILL_POINTS = 24
SEED = 20261111


def test_killed_anywhere_the_next_run_repairs_and_loses_nothing(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str], None],
) -> None:
    built = get_engine(store_url)
    scenario.build(built, DEPARTMENTS)
    setup = frozenset(r.id for r in rows(built))
    cloner = StoreCloner(store_url, tmp_path / "clones")
    figures = Figures()
    try:
        with receivers() as rx, zygote(workdir=tmp_path, env=rx.env()) as worker:
            for name, value in rx.env().items():
                monkeypatch.setenv(name, value)

            # The uninterrupted run: what every repaired store must look like.
            url, outbox = cloner.clone(), tmp_path / "outbox-reference"
            calibration = worker.run(url, outbox=outbox, point=None)
            engine = get_engine(url)
            again, resent = repair(engine, outbox=outbox, hours=1)
            assert (again.tally()["advance"], again.enqueued, resent.claimed) == (0, 0, 0)
            reference = scenario.fingerprint(engine)
            assert scenario.replay_problems(engine) == []
            queued = rows(engine, besides=setup)
            sent_once = Counter({r.id: 1 for r in queued if r.channel != LOCAL})
            assert Counter(rx.delivered_ids()) == sent_once
            assert len(sent_once) > 100  # the scenario really sends

            points = kill_points(
                seed=SEED,
                commits=calibration.commits,
                seconds=calibration.seconds,
                count=KILL_POINTS,
            )
            for i, point in enumerate(points):
                label = f"kill point {i} ({point})"
                url, outbox = cloner.clone(), tmp_path / f"outbox-{i}"
                before = rx.mark()
                run = worker.run(url, outbox=outbox, point=point)
                engine = get_engine(url)
                flying = in_flight(engine)
                repair(engine, outbox=outbox, hours=1)
                check, settled = repair(engine, outbox=outbox, hours=2)
                if settled.claimed or check.enqueued:
                    figures.problems.append(f"{label}: the first repair left work undone")
                figures.planned += 1
                figures.killed += run.killed
                figures.finished_first += not run.killed
                figures.problems += check_store(engine, reference, label)
                problems, lost, resent_count = check_deliveries(
                    engine,
                    rx.delivered_ids(before),
                    outbox=outbox,
                    flying=flying,
                    besides=setup,
                    label=label,
                )
                figures.problems += problems
                figures.lost += lost
                figures.resent_in_flight += resent_count
                figures.messages += len(rows(engine, besides=setup))
                figures.deliveries += len(rx.delivered_ids(before))
    finally:
        cloner.close()

    figure(
        f"{figures.killed} SIGKILLs survived ({figures.planned} kill points, "
        f"{figures.finished_first} finished first), {figures.messages} messages, "
        f"{figures.deliveries} deliveries, {figures.resent_in_flight} re-sent while in flight "
        f"(same id), {figures.lost} lost"
    )
    assert figures.problems == []
    assert figures.lost == 0
    assert figures.killed >= 20
