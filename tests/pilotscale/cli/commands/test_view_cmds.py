"""`pilotscale status` at scale: above FULL_TABLE_UP_TO departments a count per phase and
standing, then every department that needs someone (held, paused, blocked...) in full,
one line each; `--all` a row per department; `--json` always every department."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

from sqlalchemy import Engine, update
from sqlmodel import Session

from pilotscale.cli.commands.view_cmds import FULL_TABLE_UP_TO
from pilotscale.models import Department
from tests.cli import run_cli_here
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

COUNT = FULL_TABLE_UP_TO + 10
AS_OF = h.day(2).isoformat()


def _store(engine: Engine) -> None:
    names = h.names(COUNT)
    h.apply(engine, plan_dict(COUNT))
    h.start(engine, names[:-5])  # the last five are not started
    for name in names[:4]:
        h.prepare_passes(engine, name, now=h.day(1))
    with Session(engine) as session, session.begin():
        for name, status in (("d010", "blocked"), ("d011", "paused"), ("d002", "paused")):
            session.execute(
                update(Department).where(Department.name == name).values(status=status)  # type: ignore[arg-type]
            )


def _needing(document: dict) -> set[str]:
    """Who needs someone, by `status --json`: started, and not active or not passing."""
    return {
        d["name"]
        for d in document["departments"]
        if d["phase"] != "planned" and (d["status"] != "active" or d["overall"] != "pass")
    }


def test_at_scale_status_counts_and_lists_every_department_that_needs_someone(
    configured_store: Engine,
) -> None:
    _store(configured_store)

    document = json.loads(run_cli_here("status", "--json", "--as-of", AS_OF).stdout)
    shown = run_cli_here("status", "--as-of", AS_OF)
    every = run_cli_here("status", "--all", "--as-of", AS_OF)

    assert shown.returncode == 0, shown.stderr
    assert len(document["departments"]) == COUNT  # --json stays complete
    needing = _needing(document)
    assert {"d010", "d011", "d002"} <= needing
    assert len(needing) < COUNT - 5
    listed = {
        line.split()[0]
        for line in shown.stdout.splitlines()
        if line.startswith("  d") and len(line.split()) > 3
    }
    assert listed == needing
    assert f"{len(needing)} departments need someone" in shown.stdout
    assert f"{COUNT} departments" in shown.stdout
    assert "status --all" in shown.stdout
    blocked = next(line for line in shown.stdout.splitlines() if line.startswith("  d010 "))
    assert "blocked" in blocked
    # The summary's last row counts every department.
    total = next(line for line in shown.stdout.splitlines() if "│ all" in line)
    assert total.split("│")[2].strip() == str(COUNT)
    # --all: the table, a row for every department.
    assert every.returncode == 0, every.stderr
    assert all(f"│ {d['name']} " in every.stdout for d in document["departments"])
    assert "need someone" not in every.stdout


def test_a_small_program_keeps_its_table(configured_store: Engine) -> None:
    h.apply(configured_store, plan_dict(3))
    h.start(configured_store, ["d001"])

    shown = run_cli_here("status", "--as-of", AS_OF)

    assert shown.returncode == 0, shown.stderr
    assert all(f"│ d00{i} " in shown.stdout for i in (1, 2, 3))
    assert "need someone" not in shown.stdout


def test_status_watch_redraws_when_the_store_changes_and_stops_on_ctrl_c(
    configured_store: Engine,
) -> None:
    h.apply(configured_store, plan_dict(3))
    h.start(configured_store, ["d001"])
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "COLUMNS": "200"}
    watching = subprocess.Popen(
        [sys.executable, "-m", "pilotscale.cli", "status", "--watch", "--every", "0.5"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    assert watching.stdout is not None
    reader = threading.Thread(target=lambda: [lines.put(x) for x in watching.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()

    def read_until(wanted: str, timeout: float = 60) -> list[str]:
        seen, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=0.5))
            except queue.Empty:
                continue
            if wanted in seen[-1]:
                return seen
        raise AssertionError(f"no {wanted!r} within {timeout}s; saw {seen[-20:]}")

    try:
        first = read_until("d003")
        assert sum(line.startswith("--- ") for line in first) == 1
        assert not any("paused" in line for line in first)
        with Session(configured_store) as session, session.begin():
            session.execute(
                update(Department)
                .where(Department.name == "d001")  # type: ignore[arg-type]
                .values(status="paused", version=Department.version + 1)
            )
        again = read_until("paused")
        assert any(line.startswith("--- ") for line in again)  # a new drawing
        watching.send_signal(signal.SIGINT)
        code = watching.wait(timeout=30)
    finally:
        watching.kill()
    assert code == 0
    assert "Traceback" not in (watching.stderr.read() if watching.stderr else "")


def test_explain_and_history_show_a_regression_with_the_results_that_caused_it(
    configured_store: Engine,
) -> None:
    from datetime import timedelta

    from pilotscale.engine.check import run_readiness_check

    data = plan_dict(1, failure_limit=3)
    data["departments"][0]["initial_phase"] = "operating"
    data["phases"][-1]["on_regression"] = {"rollback_to": "scaling"}
    h.apply(configured_store, data)
    guarded = " ".join(run_cli_here("explain", "d001", "--as-of", AS_OF).stdout.split())
    assert (
        "Guarded: 3 failing checks in a row (now 0) alert the gate owners, the sponsor and the "
        "lead, and rolls it back to 'scaling'."
    ) in guarded
    h.observe(configured_store, "d001", [0.1, 0.2, 0.3], start=h.day(1) - timedelta(hours=5))
    for day in (1, 2, 3):
        run_readiness_check(engine=configured_store, now=h.day(day))

    explained = " ".join(
        run_cli_here("explain", "d001", "--as-of", h.day(4).isoformat()).stdout.split()
    )
    history = " ".join(run_cli_here("history", "d001").stdout.split())

    assert "phase scaling" in explained
    assert (
        "Regressed on 2026-11-05: left 'operating' for 'scaling' (rolled back); monitoring "
        "regressed: 3 consecutive failing checks (limit 3), rolled back to 'scaling' "
        "(on_regression): weekly-active: 0.20 (3 samples), needs >= 0.50"
    ) in explained
    assert "Rolled back to 'scaling': when ready, pilotscale resume d001" in explained
    assert "rollback" in history
    assert "weekly-active: 0.20 (3 samples)" in history


def test_note_records_a_lesson_that_explain_shows(configured_store: Engine) -> None:
    h.into_piloting(configured_store)
    at = ("--as-of", h.day(3).isoformat())

    done = run_cli_here(
        "note", "d001", "Short [b]demos[/b] beat long ones", "--by", "d001-champ1", *at
    )
    outsider = run_cli_here("note", "d001", "x", "--by", "outsider", *at)
    explained = " ".join(run_cli_here("explain", "d001", *at).stdout.split())

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "note recorded for Department 1"
    assert outsider.returncode != 0
    assert "not in 'd001'" in outsider.stderr
    assert "Lessons learned:" in explained
    # Plan and store text is text in the terminal: the markup shows as typed.
    assert "(piloting): Short [b]demos[/b] beat long ones" in explained
