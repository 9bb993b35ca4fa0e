"""Only the people the plan allows may act: every command, through the real CLI, refuses
anyone else in one line (exit 2) and leaves the store exactly as it was; the same
command by an allowed person goes through, so the refusal is about the person.

The plan (tests/plans.py): `lead` and `deputy` lead; `exec` sponsors the program and may
approve go-ahead; `d001-sponsor` sponsors d001 (may pause and resume it, nothing else);
champions acknowledge for themselves (a lead only on their behalf, with a reason);
`outsider` has no role at all.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.start import start_department
from pilotscale.store.apply import apply_plan
from tests.cli import run_cli
from tests.plans import loaded, plan_dict
from tests.security.test_hostile_plans import store_hash

pytestmark = pytest.mark.slow

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def email(person: str) -> str:
    return f"{person}@example.com"


# (command line, who tries it, what the refusal must say)
REFUSED: list[tuple[list[str], str, str]] = [
    (["start", "d002"], "d002-sponsor", "may not start 'd002'"),
    (["rollout"], "d001-sponsor", "may not"),
    (["pause", "d001", "--reason", "x"], "d002-sponsor", "may not pause 'd001'"),
    (["pause", "d001", "--reason", "x"], "outsider", "may not pause 'd001'"),
    (["resume", "d001", "--reason", "x"], "exec", "may not resume 'd001'"),
    (["abort", "d001", "--reason", "x"], "d001-sponsor", "may not abort 'd001'"),
    (["rollback", "d001", "--to", "planned", "--reason", "x"], "d001-sponsor", "may not rollback"),
    (["approve", "d001", "go-ahead"], "d001-champ1", "is not an approver of 'go-ahead'"),
    (["approve", "d001", "go-ahead"], "nobody", "is not a person in the plan"),
    (["attest", "d001", "use-cases", "--evidence", "wiki"], "outsider", "may not attest"),
    (["ack", "d001", "d001-champ1"], "d001-champ2", "may not acknowledge"),
    (["ack", "d001", "d001-champ1"], "outsider", "may not acknowledge"),
    # A person acts only for themself: a lead enters others' actions only on their behalf.
    (["ack", "d001", "d001-champ1"], "lead", "may not acknowledge"),
    (["attest", "d001", "use-cases", "--evidence", "wiki"], "lead", "may not attest"),
    (["decline", "d001", "d001-champ1", "--reason", "busy"], "d001-champ2", "may not acknowledge"),
    (["reject", "d001", "go-ahead", "--comment", "no"], "d001-sponsor", "is not an approver"),
    (["barrier", "d001", "--text", "slow"], "outsider", "is not in 'd001'"),
    (["program", "pause", "--reason", "x"], "d001-sponsor", "may not pause the program"),
    (["program", "resume", "--reason", "x"], "exec", "may not resume the program"),
    (
        ["waive", "d001", "use-cases", "--until", "2026-12-01", "--reason", "x"],
        "d001-sponsor",
        "may not waive 'use-cases'",
    ),
    (
        ["ack", "d001", "d001-champ1", "--on-behalf-of", "d001-champ1", "--reason", "x"],
        "d001-sponsor",
        "only a lead may",
    ),
]
# Commands that take a person through PILOTSCALE_USER instead of --by.
ALLOWED: list[tuple[list[str], str]] = [
    (["pause", "d001", "--reason", "support on leave"], "d001-sponsor"),
    (["resume", "d001", "--reason", "back"], "D001-SPONSOR@EXAMPLE.COM"),  # emails: any case
    (["ack", "d001", "d001-champ1"], "d001-champ1"),
    (["attest", "d001", "use-cases", "--evidence", "wiki"], "d001-sponsor"),
    (["barrier", "d001", "--text", "slow", "--area", "technical"], "d001-casual1"),
    (
        ["ack", "d001", "d001-champ2", "--on-behalf-of", "d001-champ2", "--reason", "by phone"],
        "lead",
    ),
    (["waive", "d001", "use-cases", "--until", "2026-12-01", "--reason", "on leave"], "deputy"),
    (["program", "pause", "--reason", "vendor incident"], "lead"),
]


def cli(args: list[str], by: str, *, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(
        COLUMNS="200",
        PILOTSCALE_DATA_DIR=str(cwd / "data"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
    )
    who = by if "@" in by else email(by)
    return run_cli(*args, "--by", who, "--as-of", "2026-11-03", env=env, cwd=cwd, timeout=300)


def test_each_command_refuses_people_the_plan_does_not_allow(
    tmp_path: Path, figure: Callable[[str], None]
) -> None:
    store = tmp_path / "data" / "pilotscale.db"
    engine = get_engine(f"sqlite:///{store}")
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded(plan_dict(2)), now=T0, actor="lead")
    start_department(engine=engine, department="d001", now=T0, actor="lead")
    dispose_engines()
    before = store_hash(store)
    tracebacks = 0

    for args, who, says in REFUSED:
        result = cli(args, who, cwd=tmp_path)
        where = f"{' '.join(args)} by {who}"
        assert result.returncode == 2, f"{where}: exit {result.returncode}: {result.stderr}"
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, f"{where}: {result.stderr}"
        assert says in errors[0], f"{where}: {errors[0]}"
        tracebacks += "Traceback" in result.stderr
        assert store_hash(store) == before, f"{where} changed the store"

    for args, who in ALLOWED:
        result = cli(args, who, cwd=tmp_path)
        assert result.returncode == 0, f"{' '.join(args)} by {who}: {result.stderr}"
    assert store_hash(store) != before

    figure(
        f"{len(REFUSED)} refusals over 11 commands, store unchanged after each; "
        f"{len(ALLOWED)} allowed actions went through; {tracebacks} refusals printed a "
        "traceback (Prefect's log of the failed start/rollout flow run)"
    )
