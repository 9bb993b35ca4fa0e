"""The installed command's entry point (`pilotscale.cli.script`): the cyclic collector is
off while a short command runs, back for a long one, and nothing is collected at exit.
Each case runs in a process of its own, with the command replaced by a probe."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
