"""`pilotscale approve` as a person runs it: a real process on a real store in a data dir."""

from __future__ import annotations

import os
import pwd
import subprocess
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

    assert result.returncode == 2
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
