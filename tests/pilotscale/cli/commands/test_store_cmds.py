"""`pilotscale apply` and `pilotscale db`, run as a user runs them: a real process, a real store."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.db import display_url, get_engine, head_revision
from pilotscale.models import Department
from tests.cli import run_cli
from tests.pilotscale.store.helpers import COMPLETE_PLAN as PLAN
from tests.pilotscale.store.helpers import PLAN as INCOMPLETE_PLAN
from tests.pilotscale.store.helpers import edit, row_counts, without_department

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


def test_a_plan_missing_essentials_is_applied_only_with_allow_incomplete(
    store_url: str, tmp_path: Path
) -> None:
    # INCOMPLETE_PLAN: no department has a use case, two lack support owners, and the
    # last phase has no monitoring gate.
    plan = _write(tmp_path, INCOMPLETE_PLAN)
    run("db", "upgrade", cwd=tmp_path, database_url=store_url)

    refused = run("apply", plan, cwd=tmp_path, database_url=store_url)
    counts = row_counts(get_engine(store_url))
    allowed = run("apply", plan, "--allow-incomplete", cwd=tmp_path, database_url=store_url)

    assert refused.returncode == 2
    assert refused.stdout == ""
    lines = refused.stderr.splitlines()
    assert lines[0].startswith(
        "warning: plan.yaml:14: phases[2].exit_gates: the last phase 'operating' has no "
        "monitoring gates"
    )
    assert [line.split(": ")[0:2] for line in lines[1:-1]] == [
        ["plan.yaml:33", "departments[0].use_cases"],
        ["plan.yaml:40", "departments[0].support"],
        ["plan.yaml:41", "departments[1].use_cases"],
        ["plan.yaml:47", "departments[1].support"],
        ["plan.yaml:48", "departments[2].support"],
        ["plan.yaml:48", "departments[2].use_cases"],
    ]
    assert lines[-1] == "plan.yaml: 6 problems found; nothing applied"
    assert not any(counts.values()), counts
    assert allowed.returncode == 0, allowed.stderr
    assert "program helpdesk-bot created" in allowed.stdout.splitlines()
    warned = allowed.stderr.splitlines()
    assert len(warned) == 7
    assert all(line.startswith("warning: plan.yaml:") for line in warned)


def test_apply_as_of_dates_the_change_and_history_as_of_shows_it_then(
    store_url: str, tmp_path: Path
) -> None:
    # A date alone is midnight in the program's time zone (Europe/Madrid: UTC+1 in March).
    plan = _write(tmp_path, PLAN)

    applied = run("apply", plan, "--as-of", "2026-03-02", cwd=tmp_path, database_url=store_url)
    shown = run("history", "support", "--json", cwd=tmp_path, database_url=store_url)
    before = run(
        "history", "support", "--json", "--as-of", "2026-03-01T23:59",
        cwd=tmp_path, database_url=store_url,
    )  # fmt: skip
    at = run(
        "history", "support", "--json", "--as-of", "2026-03-01T23:00Z",
        cwd=tmp_path, database_url=store_url,
    )  # fmt: skip

    assert applied.returncode == 0, applied.stderr
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert [(r["to_phase"], r["at"][:16]) for r in rows] == [("operating", "2026-03-01T23:00")]
    assert json.loads(before.stdout) == []  # 23:59 in Madrid is 22:59 UTC: before the apply
    assert json.loads(at.stdout) == rows


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
