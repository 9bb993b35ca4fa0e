"""The installed command's entry point (`pilotscale.cli.script`): the cyclic collector is
off while a short command runs, back for a long one, and nothing is collected at exit.
Each case runs in a process of its own, with the command replaced by a probe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.security.hostile import EXAMPLE

PROBE = """
import atexit, gc, sys, time
import pilotscale.cli.script as script
import pilotscale.cli.main as cli_main
script.SHORT_COMMAND_S = {short}
atexit.register(lambda: print("frozen at exit:", gc.get_freeze_count() > 0))
def command():
    time.sleep({runs})
    print("collector on while running:", gc.isenabled())
cli_main.main = command
sys.argv = ["pilotscale", "status"]
script.main()
"""


def probe(*, short: float, runs: float) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(short=short, runs=runs)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize(
    ("short", "runs", "enabled"),
    [
        (30.0, 0.0, False),  # a short command: the collector stays off
        (0.2, 0.6, True),  # a long one: back on after SHORT_COMMAND_S
    ],
)
def test_the_collector_is_off_only_for_a_short_command(
    short: float, runs: float, enabled: bool
) -> None:
    assert probe(short=short, runs=runs) == [
        f"collector on while running: {enabled}",
        "frozen at exit: True",
    ]


def test_the_store_is_closed_at_exit_so_sqlite_folds_its_log_back(tmp_path: Path) -> None:
    """Nothing is collected at exit, but the store's connections are still closed: SQLite
    folds its write-ahead log into the database file when the last one closes, so the file
    alone holds what the command wrote (a backup copy of it is whole)."""
    env = {
        **os.environ,
        "PILOTSCALE_DATA_DIR": str(tmp_path),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PILOTSCALE_DATABASE_URL", None)

    done = run_cli("apply", str(EXAMPLE), "--allow-incomplete", env=env)

    assert done.returncode == 0, done.stderr
    stores = list(tmp_path.glob("*.db"))
    assert len(stores) == 1
    log = stores[0].with_name(stores[0].name + "-wal")
    assert not log.exists() or log.stat().st_size == 0


PAUSED_PROBE = """
import gc, sys, time
import pilotscale.cli.script as script
import pilotscale.cli.main as cli_main
from pilotscale.gcpause import gc_paused
script.SHORT_COMMAND_S = 0.2
def command():
    with gc_paused():  # a report's reads, paused on purpose, running past the moment
        time.sleep(0.6)
        print("collector on in the paused block:", gc.isenabled())
    print("collector on after it:", gc.isenabled())
cli_main.main = command
sys.argv = ["pilotscale", "report"]
script.main()
"""


def test_a_long_command_gets_the_collector_back_after_its_paused_block() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PAUSED_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "collector on in the paused block: False",
        "collector on after it: True",
    ]
