"""The conventions operators bring from `prefect`, `gh` and `kubectl`: `--version` and
shell completion, through the installed `pilotscale` command."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

PILOTSCALE = str(Path(sys.executable).with_name("pilotscale"))


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PILOTSCALE, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_prints_pilotscale_and_prefect_and_exits_0() -> None:
    shown = _run("--version")

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"pilotscale {version('pilotscale')} (prefect {version('prefect')})\n"
    assert shown.stderr == ""


def test_the_completion_script_is_shown_for_bash() -> None:
    shown = _run("--show-completion", "bash")

    assert shown.returncode == 0, shown.stderr
    assert "_PILOTSCALE_COMPLETE=complete_bash" in shown.stdout
    assert "complete -o default -F _pilotscale_completion pilotscale" in shown.stdout


def test_commands_complete_from_their_first_letters() -> None:
    completed = _run(
        _PILOTSCALE_COMPLETE="complete_bash", COMP_WORDS="pilotscale sta", COMP_CWORD="1"
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["start", "status"]


def test_options_complete_too() -> None:
    completed = _run(
        _PILOTSCALE_COMPLETE="complete_bash", COMP_WORDS="pilotscale status --j", COMP_CWORD="2"
    )

    assert completed.stdout.split() == ["--json"]
