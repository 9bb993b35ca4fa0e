"""Two readiness checks at once, on PostgreSQL, over 120 departments: each department is
advanced by exactly one of them, and every notification is queued once.

Two processes each run the real `readiness-check` flow (what two workers do). To make
them truly race rather than hope they overlap, the test holds an EXCLUSIVE lock on the
department table while they start: both read everything and decide to advance every
department, then both block in their first write transaction (one on the table, the
other on the first one's gate result). The test releases the lock once both wait, and
they apply the same 120 decisions at the same moment.

The guarantee comes from the store, not from Prefect: each department is applied in its
own transaction guarded by the row's version, so the loser of every race changes
nothing (its whole transaction rolls back), and notifications carry unique dedupe keys.
A check that a deployment runs is also limited to one run at a time by its deployment
concurrency limit; the lock-free path here is the one that needs no such help.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from pilotscale.db import get_engine
from pilotscale.deployments.local_server import LocalServer
from pilotscale.engine.check import run_readiness_check
from pilotscale.models import (
    Department,
    GateResultRecord,
    Notification,
    TrainingAssignment,
    Transition,
)
from pilotscale.store.apply import apply_plan
from tests.deployments.helpers import REPO, child_env, wait_for
from tests.plans import LEAD, loaded, plan_dict

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DEPARTMENTS = 120
APPLIED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CHECK_AT = APPLIED_AT + timedelta(days=1)


def _plan(departments: int) -> dict[str, Any]:
    """Every department already piloting, whose only gate (support owners named) passes:
    each check decides to advance all of them into scaling, with its entry actions."""
    data = plan_dict(departments)
    for phase in data["phases"]:
        if phase["name"] == "piloting":
            phase["exit_gates"] = ["support"]
            phase.pop("min_soak", None)
    data["gates"].append(
        {"name": "support", "kind": "support_coverage", "title": "Support named", "owner": "lead"}
    )
    for department in data["departments"]:
        department["initial_phase"] = "piloting"
    return data


def _apply(engine: Engine, departments: int) -> None:
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded(_plan(departments)), now=APPLIED_AT, actor=LEAD)


def _per_department(engine: Engine) -> dict[str, tuple[int, int, int]]:
    """Department -> (advance transitions, notifications, training assignments)."""
    with Session(engine) as session:
        names = dict(session.exec(select(Department.id, Department.name)).all())
        advances = Counter(
            session.exec(
                select(Transition.department_id).where(col(Transition.event) == "advance")
            ).all()
        )
        notes = Counter(session.exec(select(Notification.department_id)).all())
        assigned = Counter(session.exec(select(TrainingAssignment.department_id)).all())
    return {name: (advances[i], notes[i], assigned[i]) for i, name in names.items()}


def _baseline(tmp_path: Path) -> dict[str, tuple[int, int, int]]:
    """What one check alone writes for each department of the same plan (SQLite, no race)."""
    engine = get_engine(f"sqlite:///{tmp_path / 'baseline.db'}")
    _apply(engine, DEPARTMENTS)
    run_readiness_check(engine=engine, now=CHECK_AT)
    return _per_department(engine)


def _waiting_for_locks(url: str) -> int:
    """Sessions of this database waiting for a lock: on the department table, or on the
    other check's first transaction (whose gate result it is about to insert too)."""
    with psycopg.connect(url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_two_racing_checks_advance_each_department_once(
    prefect_server: LocalServer, store_url: str, tmp_path: Path
) -> None:
    baseline = _baseline(tmp_path)
    engine = get_engine(store_url)
    _apply(engine, DEPARTMENTS)
    env = child_env(
        PREFECT_API_URL=prefect_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-client"),
        PILOTSCALE_DATABASE_URL=store_url,
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
    )
    command = [sys.executable, "-m", "tests.deployments.run_check", CHECK_AT.isoformat()]

    with psycopg.connect(store_url) as gate:
        gate.execute("LOCK TABLE department IN EXCLUSIVE MODE")
        checks = [
            subprocess.Popen(
                command,
                env=env,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:

            def both_waiting() -> bool:
                exited = [c for c in checks if c.poll() is not None]
                assert not exited, exited[0].communicate()[1][-3000:]
                return _waiting_for_locks(store_url) >= 2

            wait_for(both_waiting, timeout=120, what="both checks to block on the department table")
        finally:
            gate.rollback()  # releases the lock: both checks now apply at once
        outputs = [c.communicate(timeout=180) for c in checks]

    for check, (_, stderr) in zip(checks, outputs, strict=True):
        assert check.returncode == 0, stderr[-3000:]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]

    # Both decided to advance every department; each department went to exactly one.
    assert [len(r["decisions"]) for r in reports] == [DEPARTMENTS, DEPARTMENTS]
    assert sum(r["tally"]["advance"] for r in reports) == DEPARTMENTS
    assert sum(len(r["conflicts"]) for r in reports) == DEPARTMENTS
    assert set(reports[0]["conflicts"]).isdisjoint(reports[1]["conflicts"])
    # And the store holds what one check alone would have written, for every department.
    per_department = _per_department(engine)
    assert len(per_department) == DEPARTMENTS
    assert {advances for advances, _, _ in per_department.values()} == {1}
    assert per_department == baseline
    assert sum(r["enqueued"] for r in reports) == sum(n for _, n, _ in baseline.values())
    with Session(engine) as session:
        phases = Counter(session.exec(select(Department.phase)).all())
        keys = session.exec(
            select(Notification.dedupe_key, func.count())
            .group_by(col(Notification.dedupe_key))
            .having(func.count() > 1)
        ).all()
        results = session.exec(select(func.count()).select_from(GateResultRecord)).one()
    assert phases == {"scaling": DEPARTMENTS}
    assert keys == []
    assert results == DEPARTMENTS  # one support-gate result per department
