"""The readiness-check tasks under Prefect: a locked store is retried, not lost."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from sqlalchemy import Engine

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.check import CheckReport
from pilotscale.settings import get_settings
from pilotscale.tasks.check_steps import apply_decisions, evaluate_gates
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

pytestmark = pytest.mark.usefixtures("prefect_harness")


@flow(name="check-once")
def check_once(as_of: datetime) -> CheckReport:
    prepared = evaluate_gates(as_of=as_of)
    report: CheckReport = apply_decisions(prepared=prepared, run_id=None)
    return report


@pytest.fixture
def impatient_store(configured_store: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The configured store, with writers giving up after 200 ms instead of 30 s."""
    h.into_piloting(configured_store, plan_dict(2))
    h.pilot_passes(configured_store, "d001", now=h.day(10))
    monkeypatch.setenv("PILOTSCALE_SQLITE_BUSY_TIMEOUT_MS", "200")
    get_settings.cache_clear()
    dispose_engines()
    return get_engine()


class ReleaseOnRetry(logging.Handler):
    """Lets the other writer finish once Prefect has scheduled the task's first retry, so
    the first attempt surely meets the lock and the retry surely does not."""

    def __init__(self, blocker: sqlite3.Connection) -> None:
        super().__init__()
        self.blocker = blocker
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "Retry 1/2 will start" in record.getMessage() and not self.retries:
            self.retries += 1
            self.blocker.execute("COMMIT")


def test_apply_decisions_is_retried_while_another_writer_holds_the_store(
    impatient_store: Engine, tmp_path: Path
) -> None:
    blocker = sqlite3.connect(
        tmp_path / "store" / "pilotscale.db", isolation_level=None, check_same_thread=False
    )
    blocker.execute("BEGIN IMMEDIATE")  # another process writing; readers still read
    release = ReleaseOnRetry(blocker)
    logger = logging.getLogger("prefect.task_runs")
    # The retry notice is an INFO record: hear it whatever PREFECT_LOGGING_LEVEL says.
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(release)
    try:
        state: Any = check_once(as_of=h.day(10), return_state=True)
    finally:
        logger.removeHandler(release)
        logger.setLevel(level)
        blocker.close()

    assert release.retries == 1
    assert state.is_completed(), state
    report = state.result()
    assert [(d.department, str(d.action)) for d in report.decisions] == [
        ("d001", "advance"),
        ("d002", "skip"),
    ]
    assert h.states(impatient_store)["d001"] == ("scaling", "active")
    advanced = [t for t in h.transitions(impatient_store, "d001") if t.event == "advance"]
    assert len(advanced) == 2  # into piloting, into scaling: once each
