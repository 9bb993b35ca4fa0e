"""The commands that only read, and the refusals, answer without importing Prefect (a
second or more before anything else happens): each runs in a process of its own, as a
person runs it, and says at exit which Prefect modules it loaded.

The latency bound here is loose on purpose (CI machines are shared and slow);
`python -m bench.cli_latency` measures against the real targets.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.security.hostile import EXAMPLE

pytestmark = pytest.mark.slow

LEAD = "maria.lopez"
# The command, run as the installed `pilotscale` runs it (pilotscale.cli.script), then
# lines on stderr naming the Prefect modules and the command modules in sys.modules at
# exit (atexit: after the command's own exit).
WRAPPER = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('PREFECT-MODULES: ' + ' '.join(sorted("
    "m for m in sys.modules if m == 'prefect' or m.startswith('prefect.'))), file=sys.stderr))\n"
    "atexit.register(lambda: print('COMMAND-MODULES: ' + ' '.join(sorted("
    "m.rpartition('.')[2] for m in sys.modules if m.startswith('pilotscale.cli.commands.'))),"
    " file=sys.stderr))\n"
    "sys.argv[0] = 'pilotscale'\n"
    "from pilotscale.cli.script import main\n"
    "main()\n"
)

READ_ONLY: list[tuple[tuple[str, ...], int]] = [
    (("--help",), 0),
    (("--version",), 0),
    (("validate", str(EXAMPLE), "--allow-incomplete"), 0),
    (("schema",), 0),
    (("status",), 0),
    (("status", "--json"), 0),
    (("explain", "hr"), 0),
    (("history", "hr"), 0),
    (("outbox",), 0),
    (("db", "current"), 0),
    (("people", "list"), 0),
    (("start", "nosuch", "--by", LEAD), 3),  # refused: unknown department
    (("start", "hr", "--by", "nobody"), 2),  # refused: not a person of the plan
    (("start", "customer-service", "--by", LEAD), 0),  # already started: nothing to run
    (("rollout", "--by", "nobody"), 2),  # refused: not a lead
    (("check", "--dry-run"), 0),  # a dry run is a rolled-back transaction, no flow run
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A data dir holding the example plan (customer-service is already operating)."""
    data = tmp_path_factory.mktemp("start-up")
    environment = {
        **os.environ,
        "PILOTSCALE_DATA_DIR": str(data),
        "PREFECT_HOME": str(data / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "120",
    }
    for name in ("PILOTSCALE_DATABASE_URL", "PILOTSCALE_USER", "PREFECT_API_URL"):
        environment.pop(name, None)
    applied = run_cli("apply", str(EXAMPLE), "--allow-incomplete", env=environment)
    assert applied.returncode == 0, applied.stderr
    return environment


def run_watched(args: tuple[str, ...], env: dict[str, str]) -> tuple[int, str, list[str]]:
    """Exit code, stdout, and the Prefect modules the command had loaded at its exit."""
    code, out, prefect, _ = run_watching(args, env)
    return code, out, prefect


def run_watching(
    args: tuple[str, ...], env: dict[str, str]
) -> tuple[int, str, list[str], list[str]]:
    """Exit code, stdout, and the Prefect modules and command modules loaded at exit."""
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stderr.splitlines()
    marker = [line for line in lines if line.startswith("PREFECT-MODULES:")]
    assert marker, done.stderr
    modules = [line for line in lines if line.startswith("COMMAND-MODULES:")]
    return (
        done.returncode,
        done.stdout,
        marker[-1].removeprefix("PREFECT-MODULES:").split(),
        modules[-1].removeprefix("COMMAND-MODULES:").split(),
    )


@pytest.mark.parametrize(("args", "code"), READ_ONLY, ids=[" ".join(a) for a, _ in READ_ONLY])
def test_a_read_only_command_or_a_refusal_never_imports_prefect(
    args: tuple[str, ...], code: int, env: dict[str, str]
) -> None:
    returncode, _, prefect = run_watched(args, env)

    assert returncode == code
    assert prefect == [], f"`pilotscale {' '.join(args)}` imported {prefect[:5]}..."


@pytest.mark.parametrize(
    ("args", "modules"),
    [
        (("status",), ["view_cmds"]),
        (("history", "hr"), ["view_cmds"]),
        (("start", "nosuch", "--by", LEAD), ["rollout_cmds"]),
        (("db", "current"), ["plan_cmds", "store_cmds"]),  # `apply` prints problems as `validate`
    ],
)
def test_a_command_imports_its_own_command_module_alone(
    args: tuple[str, ...], modules: list[str], env: dict[str, str]
) -> None:
    _, _, _, loaded = run_watching(args, env)

    assert loaded == modules


def test_help_still_lists_every_command(env: dict[str, str]) -> None:
    from pilotscale.cli.commands import MODULES, OWNERS

    code, shown, _, loaded = run_watching(("--help",), env)

    assert code == 0
    assert loaded == sorted(MODULES)
    assert all(name in shown for name in OWNERS)


def test_the_watch_sees_prefect_when_a_command_imports_it(env: dict[str, str]) -> None:
    """The check above can fail: the same watch, with Prefect imported before the command."""
    done = subprocess.run(
        [sys.executable, "-c", "import prefect.settings\n" + WRAPPER, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = [line for line in done.stderr.splitlines() if line.startswith("PREFECT-MODULES:")]
    assert "prefect.settings" in marker[-1].split()


def test_help_answers_within_a_second(env: dict[str, str]) -> None:
    """The median of three runs of `pilotscale --help`, start-up included (the target on
    an idle 2-core machine is 0.5 s; this bound leaves room for a loaded CI runner)."""
    script = Path(sys.executable).with_name("pilotscale")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pilotscale.cli"]
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--help"], env=env, capture_output=True, timeout=60, check=False
        )
        seconds.append(time.perf_counter() - started)
        assert done.returncode == 0
    assert statistics.median(seconds) <= 1.0, seconds
