"""`make demo`'s story, run as the Makefile runs it: the approver rejects and then
approves through the links in her email, HR goes live at the next check; with `--web`
the demo keeps the web app up and prints the board's address, which serves the board."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PLAN = REPO / "examples" / "acme-ai-assistant.yaml"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.pop("PREFECT_API_URL", None)
    env.update(
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        COLUMNS="120",
    )
    return env


@pytest.mark.slow
def test_the_approver_rejects_then_approves_through_her_links(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pilotscale.demo", str(PLAN)],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )

    out = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stderr[-3000:]
    assert "rejected from the link: rejection of 'executive-go-ahead'" in out
    assert "approved from her page: approval of 'executive-go-ahead'" in out
    assert re.search(r"readiness check 2026-12-21 → [^▸]*hr: advance", out), out
    # The practices the story shows: the HR roster, a stuck gate escalated, a waiver on
    # the record and an automatic rollback of a regressed department.
    assert re.search(r"imported \S*acme-roster\.csv: 2,735 people", out), out
    assert re.search(r"stuck customer-service: '[^']+' pending at 3 checks, escalated to", out)
    assert "waived 'guardrails' waived by María López until 2027-01-15" in out
    assert "regressed customer-service: monitoring regressed: 3 consecutive failing checks" in out
    assert "rolled back to 'scaling' (on_regression)" in out
    # Elena's decisions are recorded as hers, known by the signed link in her email.
    with sqlite3.connect(tmp_path / "data" / "pilotscale.db") as db:
        rows = db.execute(
            "SELECT approver_key, decision, identity_source FROM approval "
            "WHERE gate = 'executive-go-ahead' ORDER BY approved_at"
        ).fetchall()
    assert rows[-3:] == [
        ("elena.garcia", "reject", "link"),
        ("elena.garcia", "approve", "link"),
        ("maria.lopez", "approve", "cli"),
    ]


@pytest.mark.slow
def test_with_web_the_demo_serves_the_board_until_interrupted(tmp_path: Path) -> None:
    demo = subprocess.Popen(
        [sys.executable, "-m", "pilotscale.demo", str(PLAN), "--web"],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 600
        board = None
        for line in demo.stdout:
            found = re.search(r"the program board: (http://127\.0\.0\.1:\d+/)", line)
            if found:
                board = found.group(1)
                break
            assert time.monotonic() < deadline
        assert board, "the demo printed no board address"
        page = httpx.get(board, timeout=30)
        assert page.status_code == 200
        assert "Human Resources" in page.text
        demo.send_signal(signal.SIGINT)
        assert demo.wait(60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
