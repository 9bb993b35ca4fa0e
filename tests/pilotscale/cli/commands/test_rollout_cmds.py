"""`pilotscale approve` as a person runs it: a real process on a real store in a data dir."""

from __future__ import annotations

import os
import pwd
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.db import dispose_engines, get_engine
from pilotscale.models import Approval
from pilotscale.store.identity import os_user
from tests.cli import run_cli
from tests.pilotscale.engine import helpers as h
from tests.plans import EXEC, plan_dict


def run(*args: str, data_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
        "PILOTSCALE_DATA_DIR": str(data_dir),
    }
    for name in ("PILOTSCALE_DEBUG", "PILOTSCALE_DATABASE_URL", "PILOTSCALE_USER"):
        env.pop(name, None)
    return run_cli(*args, env={**env, **extra})


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """The default store of a data dir (what the CLI uses), with d001 piloting."""
    directory = tmp_path / "data"
    engine = get_engine(f"sqlite:///{directory / 'pilotscale.db'}")
    h.into_piloting(engine, plan_dict(2))
    dispose_engines()
    return directory


def approvals(data_dir: Path) -> list[Approval]:
    engine: Engine = get_engine(f"sqlite:///{data_dir / 'pilotscale.db'}")
    try:
        with Session(engine, expire_on_commit=False) as session:
            return list(session.exec(select(Approval)))
    finally:
        dispose_engines()


def test_a_non_approver_is_refused_in_one_line_and_nothing_is_recorded(data_dir: Path) -> None:
    result = run(
        "approve", "d001", "go-ahead", "--by", "d001-sponsor@example.com", data_dir=data_dir
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: d001-sponsor@example.com is not an approver of 'go-ahead' "
        "(approvers: lead@example.com, exec@example.com)"
    ]
    assert "Traceback" not in result.stderr
    assert approvals(data_dir) == []


def test_an_approver_is_recorded_with_the_real_os_user_whatever_user_says(data_dir: Path) -> None:
    real = pwd.getpwuid(os.getuid()).pw_name
    spoofed = "elena" if real != "elena" else "someone-else"  # as getpass.getuser() reads

    result = run(
        "approve",
        "d001",
        "go-ahead",
        "--by",
        "exec@example.com",
        "--comment",
        "impact is clear",
        "--as-of",
        "2026-11-05T10:00:00+00:00",
        data_dir=data_dir,
        **dict.fromkeys(("USER", "LOGNAME", "LNAME", "USERNAME"), spoofed),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "approval of 'go-ahead' for Department 1 recorded: Exec"
    (row,) = approvals(data_dir)
    assert (row.approver_key, row.comment, row.via) == (EXEC, "impact is clear", "cli")
    assert row.os_user == real


def test_an_unknown_department_gets_a_suggestion(data_dir: Path) -> None:
    result = run("approve", "d01", "go-ahead", "--by", "exec@example.com", data_dir=data_dir)

    assert result.returncode == 3  # not found
    assert result.stderr.splitlines() == [
        "error: unknown department 'd01'; did you mean 'd001'? (known: d001, d002)"
    ]


def _unnamed_uid() -> int:
    """A uid with no passwd entry."""
    uid = 54321
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


@pytest.mark.skipif(os.geteuid() != 0, reason="taking another uid needs root")
def test_a_uid_without_a_passwd_entry_is_recorded_as_its_number() -> None:
    uid = _unnamed_uid()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: becomes the unnamed uid, says who it is, and exits
        try:
            os.setuid(uid)
            os.write(write, os_user().encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as answer:
        recorded = answer.read().decode()
    os.waitpid(pid, 0)

    assert recorded == str(uid)


# --------------------------------------------------------------------------- identity


def test_a_rejection_needs_a_comment_then_holds_the_gate_in_explain(data_dir: Path) -> None:
    at = ("--as-of", "2026-11-05T10:00:00+00:00")
    bare = run("reject", "d001", "go-ahead", "--by", "exec@example.com", *at, data_dir=data_dir)
    assert bare.returncode == 2
    assert bare.stderr.splitlines() == [
        "error: say why you reject: --comment TEXT is shown with the rejection"
    ]

    said = "the <b>works council</b> has not been consulted"
    result = run(
        "reject", "d001", "go-ahead", "--by", "exec@example.com", "--comment", said, *at,
        data_dir=data_dir,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "rejection of 'go-ahead' for Department 1 recorded: Exec; the program lead is told"
    )
    (row,) = approvals(data_dir)
    assert (row.decision, row.comment, row.identity_source) == ("reject", said, "cli")
    explained = run("explain", "d001", *at, data_dir=data_dir).stdout
    # Plan and store text is text in the terminal: the markup shows as typed.
    assert f"go-ahead: rejected by Exec on 2026-11-05: {said}" in " ".join(explained.split())


def test_an_operator_attests_for_the_owner_only_on_their_behalf_with_a_reason(
    data_dir: Path,
) -> None:
    at = ("--as-of", "2026-11-05T10:00:00+00:00")
    base = ("attest", "d001", "guardrails", "--evidence", "wiki/policy", *at)

    refused = run(*base, "--by", "lead@example.com", data_dir=data_dir)
    no_reason = run(*base, "--by", "lead", "--on-behalf-of", "compliance", data_dir=data_dir)
    done = run(
        *base, "--by", "lead", "--on-behalf-of", "compliance", "--reason", "confirmed by phone",
        data_dir=data_dir,
    )  # fmt: skip

    assert refused.returncode == 2
    assert "its owner is compliance@example.com" in refused.stderr
    assert no_reason.returncode == 2
    assert "--reason TEXT" in no_reason.stderr
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "'guardrails' attested for Department 1 by Compliance — entered by Lead on behalf: "
        "'confirmed by phone'"
    )
    explained = " ".join(run("explain", "d001", *at, data_dir=data_dir).stdout.split())
    assert (
        "guardrails: attested by Compliance on 2026-11-05 (evidence: wiki/policy) — entered by "
        "Lead on behalf: 'confirmed by phone'"
    ) in explained


def test_a_champion_declines_and_a_barrier_is_reported_from_the_cli(data_dir: Path) -> None:
    at = ("--as-of", "2026-11-05T10:00:00+00:00")
    declined = run(
        "decline", "d002", "d002-champ1", "--by", "d002-champ1@example.com", "--reason",
        "on leave", *at, data_dir=data_dir,
    )  # fmt: skip
    barrier = run(
        "barrier", "d001", "--by", "d001-casual1", "--area", "content", "--text",
        "it does not know our leave policy", *at, data_dir=data_dir,
    )  # fmt: skip
    pause = run(
        "pause", "d001", "--by", "lead", "--on-behalf-of", "d001-sponsor", "--reason",
        "sponsor asked by phone", *at, data_dir=data_dir,
    )  # fmt: skip

    # d002 was never started: its champions are not onboarded yet.
    assert declined.returncode == 4  # not in the state it needs: a conflict
    assert "has not been onboarded yet" in declined.stderr
    assert barrier.returncode == 0, barrier.stderr
    assert barrier.stdout.strip() == "barrier recorded for Department 1; Knowledge is told"
    assert pause.returncode == 0, pause.stderr
    explained = " ".join(run("explain", "d001", *at, data_dir=data_dir).stdout.split())
    assert "Open barriers: - 2026-11-05 D001 Casual1 (content): it does not know" in explained
    history = " ".join(run("history", "d001", data_dir=data_dir).stdout.split())
    assert "on behalf of d001-sponsor" in history


def _checkpointed(store: Path) -> bytes:
    """The database file's bytes once everything committed is in it (WAL checkpointed)."""
    with closing(sqlite3.connect(store)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.read_bytes()


def test_dry_runs_of_check_and_rollout_leave_the_store_byte_identical(data_dir: Path) -> None:
    store = data_dir / "pilotscale.db"
    before = _checkpointed(store)

    checked = run("check", "--dry-run", "--as-of", "2026-11-12", data_dir=data_dir)
    rolled = run("rollout", "--dry-run", "--by", f"{h.LEAD}", "--as-of", "2026-11-12",
                 data_dir=data_dir)  # fmt: skip

    assert checked.returncode == 0, checked.stderr
    assert "dry run, nothing changed: readiness check" in checked.stdout
    assert "d001: hold" in checked.stdout
    assert "would queue" in checked.stdout
    assert "gate_held to " in checked.stdout
    assert rolled.returncode == 0, rolled.stderr
    assert "dry run, nothing changed: would start d002" in rolled.stdout
    assert _checkpointed(store) == before
    # The real check then does what the dry run showed.
    real = run("check", "--as-of", "2026-11-12", data_dir=data_dir)
    assert real.returncode == 0, real.stderr
    assert "d001: hold" in real.stdout
    # The wait for Prefect is said on stderr, as one line when it is not a terminal (a
    # dry run needs no Prefect, so it says nothing), and never on stdout.
    assert real.stderr.splitlines()[0] == "starting Prefect's local API (about 8 s)…"
    assert "Prefect" not in checked.stderr + rolled.stderr
    assert "starting Prefect" not in real.stdout
    assert _checkpointed(store) != before
