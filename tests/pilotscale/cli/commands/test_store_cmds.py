"""`pilotscale apply` and `pilotscale db`, run as a user runs them: a real process, a real store."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.db import display_url, get_engine, head_revision
from pilotscale.models import Department
from tests.cli import run_cli
from tests.pilotscale.store.helpers import PLAN, edit, row_counts, without_department

SECRET = "n0t-4-l0g-Pa55"


def run(*args: str, cwd: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
        "PILOTSCALE_DATABASE_URL": database_url,
        "PILOTSCALE_DATA_DIR": str(cwd / "data"),
    }
    env.pop("PILOTSCALE_DEBUG", None)
    return run_cli(*args, env=env, cwd=cwd)


def _write(tmp_path: Path, text: str, name: str = "plan.yaml") -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return name


def test_apply_then_apply_again(store_url: str, tmp_path: Path) -> None:
    plan = _write(tmp_path, PLAN)

    first = run("apply", plan, cwd=tmp_path, database_url=store_url)
    again = run("apply", plan, cwd=tmp_path, database_url=store_url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "program helpdesk-bot created",
        "department support added (operating)",
        "department finance added (planned)",
        "department legal added (planned)",
        "6 people added",
    ]
    assert again.returncode == 0, again.stderr
    assert again.stdout == "no changes: program helpdesk-bot already has this plan\n"


def test_apply_prints_each_change(store_url: str, tmp_path: Path) -> None:
    run("apply", _write(tmp_path, PLAN), cwd=tmp_path, database_url=store_url)
    changed = _write(tmp_path, edit(PLAN, "headcount: 120", "headcount: 140"), "changed.yaml")

    result = run("apply", changed, cwd=tmp_path, database_url=store_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "department finance: headcount 120 → 140\n"


def test_dry_run_writes_nothing(store_url: str, tmp_path: Path) -> None:
    run("apply", _write(tmp_path, PLAN), cwd=tmp_path, database_url=store_url)
    counts = row_counts(get_engine(store_url))
    changed = _write(tmp_path, edit(PLAN, "headcount: 120", "headcount: 140"), "changed.yaml")

    result = run("apply", changed, "--dry-run", cwd=tmp_path, database_url=store_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "department finance: headcount 120 → 140\n"
    assert result.stderr == "dry run: nothing was written\n"
    assert row_counts(get_engine(store_url)) == counts
    again = run("apply", changed, cwd=tmp_path, database_url=store_url)
    assert again.stdout == "department finance: headcount 120 → 140\n"


def test_an_invalid_plan_is_not_applied(store_url: str, tmp_path: Path) -> None:
    plan = _write(tmp_path, edit(PLAN, "headcount: 120", "headcount: lots"))

    result = run("apply", plan, cwd=tmp_path, database_url=store_url)

    assert result.returncode == 2
    assert result.stdout == ""
    line = PLAN.splitlines().index("    headcount: 120") + 1
    assert result.stderr.splitlines()[0].startswith(f"plan.yaml:{line}: departments[1].headcount: ")
    assert result.stderr.splitlines()[-1] == "plan.yaml: 1 problem found; nothing applied"


def test_removing_a_started_department_needs_force(store_url: str, tmp_path: Path) -> None:
    run("apply", _write(tmp_path, PLAN), cwd=tmp_path, database_url=store_url)
    engine: Engine = get_engine(store_url)
    with Session(engine) as session:
        finance = session.exec(select(Department).where(col(Department.name) == "finance")).one()
        finance.phase = "piloting"
        session.add(finance)
        session.commit()
    shrunk = _write(tmp_path, without_department(PLAN, "finance"), "shrunk.yaml")

    refused = run("apply", shrunk, cwd=tmp_path, database_url=store_url)
    forced = run("apply", shrunk, "--force", cwd=tmp_path, database_url=store_url)

    assert refused.returncode == 4  # a conflict with the store's state
    assert refused.stdout == ""
    assert refused.stderr.splitlines() == [
        "shrunk.yaml: not applied:",
        "  department finance has started (phase piloting) and is not in the plan any more "
        "(removed or renamed); use --force to remove it anyway (its history is kept)",
    ]
    assert forced.returncode == 0, forced.stderr
    assert "department finance removed (was piloting; history kept)" in forced.stdout.splitlines()


def test_db_upgrade_and_current(store_url: str, tmp_path: Path) -> None:
    before = run("db", "current", cwd=tmp_path, database_url=store_url)
    upgraded = run("db", "upgrade", cwd=tmp_path, database_url=store_url)
    after = run("db", "current", cwd=tmp_path, database_url=store_url)

    shown = display_url(store_url)
    assert before.stdout.splitlines() == [
        "revision: none (empty store; run: pilotscale db upgrade)",
        f"store: {shown}",
    ]
    assert (
        upgraded.stdout == f"upgraded from an empty store to revision {head_revision()}: {shown}\n"
    )
    assert after.stdout.splitlines() == [f"revision: {head_revision()} (head)", f"store: {shown}"]


@pytest.mark.parametrize("command", [["db", "current"], ["db", "upgrade"], ["apply", "plan.yaml"]])
def test_an_unreachable_store_never_shows_its_password(tmp_path: Path, command: list[str]) -> None:
    _write(tmp_path, PLAN)
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:1/test"

    result = run(*command, cwd=tmp_path, database_url=url)

    assert result.returncode == 1  # a failure: the store cannot be reached
    assert result.stderr.startswith(
        "error: cannot connect to the store at postgresql+psycopg://postgres:***@127.0.0.1:1/test: "
    )
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [["apply"], ["db"], ["db", "upgrade"], ["db", "current"]])
def test_help_has_an_example(tmp_path: Path, command: list[str]) -> None:
    result = run(*command, "--help", cwd=tmp_path, database_url="sqlite:///unused.db")
    assert result.returncode == 0
    assert "Example" in result.stdout
    assert "pilotscale " in result.stdout.split("Example", 1)[1]
