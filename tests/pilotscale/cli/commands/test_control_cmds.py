"""`pilotscale program pause|resume` and `pilotscale waive` as a lead runs them, and what
status, explain and history then say: real processes on a real store in a data dir."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from pilotscale.db import dispose_engines, get_engine
from tests.pilotscale.cli.commands.test_rollout_cmds import run
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

AS_OF = "2026-11-12T09:00:00+00:00"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """d001 piloting with every gate but the approval passing at AS_OF, in a blackout
    from the next day."""
    directory = tmp_path / "data"
    data = plan_dict(2)
    data["departments"][0]["blackout"] = [
        {"start": "2026-11-13", "end": "2026-11-20", "reason": "quarter close"}
    ]
    engine = get_engine(f"sqlite:///{directory / 'pilotscale.db'}")
    h.into_piloting(engine, data)
    check = h.day(10)
    h.observe(engine, "d001", [0.6, 0.7, 0.8], start=check - timedelta(hours=5))
    h.complete(engine, "d001", "power", now=check - timedelta(hours=1))
    h.attest(engine, "d001", "guardrails", now=check - timedelta(hours=1))
    dispose_engines()
    return directory


def test_a_lead_waives_a_gate_and_every_view_says_waived(data_dir: Path) -> None:
    waived = run(
        "waive", "d001", "go-ahead", "--until", "2026-11-20",
        "--by", "lead@example.com", "--reason", "exec away; agreed by <b>board</b>",
        "--as-of", "2026-11-12T08:00:00+00:00", data_dir=data_dir,
    )  # fmt: skip
    assert waived.returncode == 0, waived.stderr
    assert "waived by Lead until 2026-11-20" in waived.stdout
    assert "told d001-sponsor, lead" in waived.stdout

    status = run("status", "--json", "--as-of", AS_OF, data_dir=data_dir)
    d001 = next(d for d in json.loads(status.stdout)["departments"] if d["name"] == "d001")
    assert d001["waived"] == ["go-ahead"]
    assert d001["overall"] == "pass"
    gate = next(g for g in d001["gates"] if g["gate"] == "go-ahead")
    assert gate["label"] == "waived"
    assert gate["waived_until"].startswith("2026-11-20")

    explain = run("explain", "d001", "--as-of", AS_OF, data_dir=data_dir)
    assert "✓ waived until 2026-11-20" in explain.stdout
    table = run("status", "--as-of", AS_OF, data_dir=data_dir)
    assert "waived until 2026-11-20" in table.stdout

    history = run("history", "d001", "--json", data_dir=data_dir)
    [entry] = [e for e in json.loads(history.stdout) if e["event"] == "waive"]
    assert entry["actor"] == "lead"
    assert entry["reason"].endswith("exec away; agreed by <b>board</b>")


def test_a_lead_revokes_a_waiver_and_history_shows_it(data_dir: Path) -> None:
    run(
        "waive", "d001", "go-ahead", "--until", "2026-11-20",
        "--by", "lead@example.com", "--reason", "exec away",
        "--as-of", "2026-11-12T08:00:00+00:00", data_dir=data_dir,
    )  # fmt: skip

    revoked = run(
        "waive", "d001", "go-ahead", "--revoke",
        "--by", "lead@example.com", "--reason", "exec <b>back</b>",
        "--as-of", "2026-11-12T08:30:00+00:00", data_dir=data_dir,
    )  # fmt: skip
    again = run(
        "waive", "d001", "go-ahead", "--revoke",
        "--by", "lead@example.com", "--reason", "twice",
        "--as-of", "2026-11-12T08:40:00+00:00", data_dir=data_dir,
    )  # fmt: skip
    both = run(
        "waive", "d001", "go-ahead", "--revoke", "--until", "2026-11-20",
        "--by", "lead@example.com", "--reason", "x", data_dir=data_dir,
    )  # fmt: skip

    assert revoked.returncode == 0, revoked.stderr
    assert "the waiver of 'go-ahead' is revoked" in revoked.stdout
    status = run("status", "--json", "--as-of", AS_OF, data_dir=data_dir)
    d001 = next(d for d in json.loads(status.stdout)["departments"] if d["name"] == "d001")
    assert d001["waived"] == []
    assert again.returncode == 4
    assert "no waiver in force" in again.stderr
    assert both.returncode == 2
    assert "--revoke ends the waiver now" in both.stderr
    history = run("history", "d001", "--json", data_dir=data_dir)
    events = [e["event"] for e in json.loads(history.stdout)]
    assert [e for e in events if e in ("waive", "revoke")] == ["waive", "revoke"]
    revoke = next(e for e in json.loads(history.stdout) if e["event"] == "revoke")
    assert (revoke["actor"], revoke["until"]) == ("lead", None)
    assert revoke["reason"] == "'go-ahead' waiver revoked: exec <b>back</b>"
    table = run("history", "d001", data_dir=data_dir)
    assert "waiver revoked: exec <b>back</b>" in " ".join(table.stdout.split())


def test_someone_else_may_not_waive_or_pause(data_dir: Path) -> None:
    waived = run(
        "waive", "d001", "go-ahead", "--until", "2026-11-20",
        "--by", "exec@example.com", "--reason", "why not", "--as-of", AS_OF, data_dir=data_dir,
    )  # fmt: skip
    assert waived.returncode == 2
    assert waived.stderr.startswith("error: exec@example.com may not waive 'go-ahead'")
    paused = run("program", "pause", "--by", "exec@example.com", "--reason", "x", data_dir=data_dir)
    assert paused.returncode == 2
    assert "only a lead may" in paused.stderr


def test_pause_and_resume_are_shown_and_recorded(data_dir: Path) -> None:
    paused = run(
        "program", "pause", "--by", "lead@example.com", "--reason", "vendor incident",
        "--as-of", AS_OF, data_dir=data_dir,
    )  # fmt: skip
    assert paused.returncode == 0, paused.stderr
    shown = json.loads(run("status", "--json", data_dir=data_dir).stdout)
    assert shown["paused"] is True
    assert (shown["pause"]["by"], shown["pause"]["reason"]) == ("lead", "vendor incident")
    table = run("status", "--as-of", AS_OF, data_dir=data_dir).stdout
    assert "PROGRAM PAUSED by lead on 2026-11-12 (vendor incident)" in " ".join(table.split())
    explain = run("explain", "d001", "--as-of", AS_OF, data_dir=data_dir)
    assert "The program is paused" in explain.stdout
    start = run("start", "d002", "--by", "lead@example.com", data_dir=data_dir)
    assert "resume the program first" in start.stderr

    resumed = run(
        "program", "resume", "--by", "lead@example.com", "--reason", "incident closed",
        "--as-of", "2026-11-12T10:00:00+00:00", data_dir=data_dir,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    events = [
        e["event"] for e in json.loads(run("history", "d001", "--json", data_dir=data_dir).stdout)
    ]
    assert events[-2:] == ["program pause", "program resume"]


def test_a_blackout_is_shown_in_status_and_explain(data_dir: Path) -> None:
    during = "2026-11-14T09:00:00+00:00"
    for at, expected in ((AS_OF, None), (during, "in blackout until 2026-11-20 (quarter close)")):
        status = run("status", "--json", "--as-of", at, data_dir=data_dir)
        d001 = next(d for d in json.loads(status.stdout)["departments"] if d["name"] == "d001")
        assert d001["blackout"] == expected
    explain = run("explain", "d001", "--as-of", during, data_dir=data_dir)
    assert "It is in blackout until 2026-11-20 (quarter close): no advance" in explain.stdout
