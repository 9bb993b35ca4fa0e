"""Expected failures are one line, always: the store full, locked, unreachable or
damaged, a bad store URL or setting, a race lost to another command. Each through the
real command, in its own process: stderr is the error line (and at most a one-line
hint), no traceback, exit code 2, and the advice fits the failure (a damaged file is
restored from a backup; running again cannot repair it).

Before, a full disk printed 148 lines and 4 tracebacks before the right line, the loser
of two simultaneous starts some 80 lines of Prefect traceback, a port like 'notaport'
"unexpected ValueError", and a damaged file was told to run the command again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from pilotscale.cli.launch import STARTING_LOCAL_API
from pilotscale.db import dispose_engines, get_engine
from pilotscale.refusal import Exit
from tests.cli import run_cli
from tests.reliability import outage_child
from tests.reliability.crash_harness import ROOT
from tests.security.hostile import EXAMPLE

pytestmark = pytest.mark.slow

LEAD = "maria.lopez@acme.example"
START_HR = ("start", "hr", "--by", LEAD)


def environment(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        COLUMNS="200",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PILOTSCALE_DATA_DIR=str(data_dir),
        **extra,
    )
    return env


def applied(data_dir: Path, plan: Path = EXAMPLE) -> Path:
    """The data dir's store with `plan` applied; returns the store's file."""
    store = data_dir / "pilotscale.db"
    # The example's Sales lacks a content owner on purpose (the demo's story).
    result = run_cli("apply", str(plan), "--allow-incomplete", env=environment(data_dir))
    assert result.returncode == 0, result.stderr
    return store


def one_line(
    result: subprocess.CompletedProcess[str], *, hint: bool = False, code: int = Exit.failure
) -> str:
    """The error line, after checking it is all there is (with its hint line, if `hint`),
    and the exit code of its kind: a failure (the store, Prefect) unless told otherwise.
    The note that Prefect's local API is starting, before a flow runs here, is progress
    said while the command waits, not part of the error."""
    lines = [line for line in result.stderr.splitlines() if line != STARTING_LOCAL_API]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == code, f"exit {result.returncode}: {result.stderr}"
    assert len(lines) == (2 if hint else 1), result.stderr
    assert lines[0].startswith("error: "), result.stderr
    if hint:
        assert lines[1].startswith("hint: "), result.stderr
    return lines[0]


# --------------------------------------------------------------------------- full


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs, mounted for the test (root only)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        dispose_engines()
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave_kb: int) -> None:
    """Fill the file system but `leave_kb` KB."""
    free = shutil.disk_usage(disk).free
    with (disk / "filler").open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave_kb * 1024))


def test_a_full_disk_is_one_line_that_says_so(
    tiny_disk: Path, figure: Callable[[str], None]
) -> None:
    applied(tiny_disk)
    fill(tiny_disk, leave_kb=48)

    started = run_cli(*START_HR, env=environment(tiny_disk))

    line = one_line(started)
    assert " is full (database or disk is full)" in line
    assert f"make room on the disk that holds {tiny_disk / 'pilotscale.db'}" in line
    figure(f"a full disk (1 MB tmpfs) under `start hr`: 1 line, exit 2: {line[:60]}...")


@pytest.mark.parametrize(
    "command", [START_HR, ("apply", str(EXAMPLE), "--allow-incomplete")], ids=["start", "apply"]
)
def test_a_store_that_cannot_grow_is_one_line_that_says_so(
    command: tuple[str, ...], tmp_path: Path
) -> None:
    if command[0] == "start":
        applied(tmp_path / "data")
    else:
        get_engine(f"sqlite:///{tmp_path / 'data' / 'pilotscale.db'}")  # migrated, empty
        dispose_engines()

    result = outage_child.run(
        "sqlite-full", 1, *command, env=environment(tmp_path / "data"), timeout=300
    )

    assert " is full (database or disk is full)" in one_line(result)


# --------------------------------------------------------------------------- locked


def test_a_store_locked_during_a_flow_run_is_one_line(tmp_path: Path) -> None:
    applied(tmp_path / "data")
    env = environment(tmp_path / "data", PILOTSCALE_SQLITE_BUSY_TIMEOUT_MS="300")

    # Statement 8: past the preflight's reads, inside the flow run's task.
    result = outage_child.run("sqlite-lock", 8, *START_HR, env=env, timeout=300)

    line = one_line(result)
    assert "database is locked" in line
    assert line.endswith("run the command again")


# --------------------------------------------------------------------------- unreachable


def test_an_unreachable_store_is_one_line(tmp_path: Path) -> None:
    env = environment(
        tmp_path / "data",
        PILOTSCALE_DATABASE_URL="postgresql://postgres:S3cret-pw@127.0.0.1:9/pilotscale",
    )

    line = one_line(run_cli(*START_HR, env=env))

    assert line.startswith("error: cannot connect to the store at postgresql+psycopg://")
    assert "S3cret-pw" not in line


# --------------------------------------------------------------------------- damaged


def not_a_database(store: Path) -> None:
    store.write_bytes(b"this is not an SQLite file, whatever its name says\n" * 200)


def malformed(store: Path) -> None:
    """Every page but the first (the header and the schema) overwritten."""
    with sqlite3.connect(store) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.stat().st_size
    with store.open("r+b") as handle:
        handle.seek(page_size)
        handle.write(b"\xa5" * (size - page_size))


@pytest.mark.parametrize("damage", [not_a_database, malformed])
@pytest.mark.parametrize("command", [("status",), START_HR], ids=["status", "start"])
def test_a_damaged_store_is_told_to_restore_a_backup_not_to_run_again(
    damage: Callable[[Path], None], command: tuple[str, ...], tmp_path: Path
) -> None:
    store = applied(tmp_path / "data")
    dispose_engines()
    damage(store)

    result = run_cli(*command, env=environment(tmp_path / "data"))

    line = one_line(result, hint=True)
    hint = result.stderr.splitlines()[1]
    assert " is damaged (" in line
    assert "restore the store from your latest backup" in line
    assert "run the command again" not in line
    assert f"copy your backup over {store}" in hint
    assert f'sqlite3 {store} ".backup backup.db"' in hint
    assert 'docs/operations.md, "What to back up"' in hint


# --------------------------------------------------------------------------- bad settings


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:notaport/x", "the store URL's port is not a number"),
        ("postgresql://[::1/x", "the store URL's port is not a number"),
        ("postgresql+asyncpg://postgres@127.0.0.1/x", "unsupported store postgresql+asyncpg://"),
        ("sqlite://relative.db", "the store URL is not usable: Invalid SQLite URL"),
        ("not a url", "the store URL is not a database URL"),
    ],
)
def test_a_bad_store_url_is_one_line(url: str, expected: str, tmp_path: Path) -> None:
    line = one_line(run_cli("status", env=environment(tmp_path, PILOTSCALE_DATABASE_URL=url)))

    assert line.startswith(f"error: {expected}")
    assert "expected e.g. 'sqlite:///path/to/file.db'" in line


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path, PILOTSCALE_SQLITE_BUSY_TIMEOUT_MS="soon")

    line = one_line(run_cli("status", env=env), code=Exit.refused)

    assert line.startswith("error: bad setting PILOTSCALE_SQLITE_BUSY_TIMEOUT_MS: ")


def test_a_store_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file, not a folder")
    env = environment(tmp_path, PILOTSCALE_DATABASE_URL=f"sqlite:///{tmp_path}/file/x/store.db")

    line = one_line(run_cli("status", env=env))

    assert line.startswith(f"error: cannot create the folder {tmp_path}/file/x for the store")


def test_prefects_local_api_too_slow_to_start_is_one_line_that_says_what_to_do(
    tmp_path: Path,
) -> None:
    """No PREFECT_API_URL: `check` starts Prefect's API in its own process. One that does not
    answer in time (here a one-second limit against a new PREFECT_HOME's ~20 s) is an
    expected failure with advice, not "unexpected RuntimeError" (CI, a busy machine)."""
    data = tmp_path / "data"
    applied(data)
    env = environment(
        data,
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="1",
    )
    env.pop("PREFECT_API_URL", None)

    result = run_cli("check", env=env, timeout=300)

    line = one_line(result, hint=True)
    assert line.startswith("error: Prefect's local API did not start in time"), line
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in result.stderr


def test_prefects_local_api_gets_two_minutes_unless_told_otherwise() -> None:
    """Prefect's own 20 s is what a new PREFECT_HOME takes on a 2-core machine."""
    probe = (
        "import os; from pilotscale.cli.main import ephemeral_api_patience; "
        "ephemeral_api_patience(); "
        "print(os.environ['PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS'])"
    )
    base = {
        k: v
        for k, v in os.environ.items()
        if k != "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
    }
    default = subprocess.run(
        [sys.executable, "-c", probe], env=base, capture_output=True, text=True, check=True
    )
    told = subprocess.run(
        [sys.executable, "-c", probe],
        env={**base, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "7"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert (default.stdout, told.stdout) == ("120\n", "7\n")


# --------------------------------------------------------------------------- a lost race


def running_starts(prefect_db: Path, token: str) -> int:
    """start-department flow runs of this test that are running."""
    if not prefect_db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{prefect_db}?mode=ro", uri=True, timeout=5) as db:
            return int(
                db.execute(
                    "SELECT count(*) FROM flow_run WHERE state_type = 'RUNNING' "
                    "AND parameters LIKE ?",
                    (f"%{token}%",),
                ).fetchone()[0]
            )
    except sqlite3.OperationalError:  # the server is still creating its tables
        return 0


def test_the_loser_of_two_starts_at_once_is_refused_in_one_line(
    tmp_path: Path, figure: Callable[[str], None]
) -> None:
    """Two departments, room for one (max_active 1), two `pilotscale start` at once, with
    no Prefect server: each runs its flow here, on Prefect's ephemeral API. The store's
    write lock is held until both flow runs are running, so both pass the preflight and
    the loser is refused inside its flow run."""
    plan = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    plan["rollout"]["max_active"] = 1
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(yaml.safe_dump(plan, allow_unicode=True), encoding="utf-8")
    data = tmp_path / "data"
    store = applied(data, plan_file)
    prefect_home = tmp_path / "prefect"
    # The example names no reachable channel: its messages go to the local folder, so
    # the warm-up check delivers them (undelivered messages would make it exit 5).
    env = environment(
        data,
        PREFECT_HOME=str(prefect_home),
        PILOTSCALE_SQLITE_BUSY_TIMEOUT_MS="240000",
        PILOTSCALE_LOCAL_DELIVERY="true",
    )
    env.pop("PREFECT_API_URL", None)
    warm = run_cli("check", env=env, timeout=300)  # Prefect's database, created once
    assert warm.returncode == 0, warm.stderr
    token = f"race-{uuid.uuid4().hex[:8]}"

    holder = sqlite3.connect(store, isolation_level=None, timeout=30)
    holder.execute("BEGIN IMMEDIATE")
    try:
        racers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pilotscale.cli",
                    "start",
                    name,
                    "--by",
                    LEAD,
                    "--reason",
                    token,
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("hr", "sales")
        ]
        deadline = time.monotonic() + 240
        while running_starts(prefect_home / "prefect.db", token) < 2:
            assert time.monotonic() < deadline, "the two flow runs never ran at once"
            assert all(r.poll() is None for r in racers), "a start ended before the race"
            time.sleep(0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(racer.args, racer.returncode, out, err))

    winners = [r for r in results if r.returncode == 0]
    losers = [r for r in results if r.returncode != 0]
    assert len(winners) == 1, [r.stderr for r in results]
    assert " started: now in phase 'preparing'" in winners[0].stdout
    line = one_line(losers[0], code=Exit.conflict)
    assert "already in flight, the most rollout.max_active allows (1)" in line
    figure(f"two starts at once, one slot: the loser's stderr is 1 line, exit 4: {line[:70]}...")
