"""The conventions operators bring from `prefect`, `gh` and `kubectl`: `--version` and
shell completion, through the installed `pilotscale` command."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

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
    # typer finds the shell among the command's parent processes (shellingham): run it from
    # bash, as a person would, not from whatever started pytest (a detached job has
    # none). `; exit $?` keeps bash from replacing itself with the command.
    shown = subprocess.run(
        ["bash", "-c", '"$0" --show-completion; exit $?', PILOTSCALE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

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


def _on_a_terminal(*args: str, **env: str) -> bytes:
    """What `pilotscale ARGS` writes to a real terminal (a pseudo-terminal), both streams."""
    main, child = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    process = subprocess.Popen(
        [PILOTSCALE, *args], stdout=child, stderr=child, env={**environment, **env}
    )
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        out += chunk
    process.wait(timeout=60)
    os.close(main)
    return out


@pytest.mark.parametrize(
    ("args", "styled_on_a_tty"),
    [
        (("--help",), True),
        # Error lines are plain text on a terminal too: `error: ...` and `hint: ...`.
        (("status", "--no-such-option"), False),
        (("validate", "missing.yaml"), False),
    ],
)
def test_no_color_on_a_terminal_means_no_escape_at_all(
    args: tuple[str, ...], styled_on_a_tty: bool
) -> None:
    styled = _on_a_terminal(*args)
    plain = _on_a_terminal(*args, NO_COLOR="1")

    assert (b"\x1b[" in styled) is styled_on_a_tty  # the control: styles do reach a tty
    assert b"\x1b" not in plain, plain[:300]
    assert plain.replace(b"\r\n", b"\n").strip()  # still says something


def test_no_color_status_on_a_terminal_has_no_escape(tmp_path: Path) -> None:
    data = str(tmp_path)
    example = Path(__file__).resolve().parents[3] / "examples" / "acme-ai-assistant.yaml"
    assert (
        _run("apply", str(example), "--allow-incomplete", PILOTSCALE_DATA_DIR=data).returncode == 0
    )

    styled = _on_a_terminal("status", PILOTSCALE_DATA_DIR=data)
    plain = _on_a_terminal("status", PILOTSCALE_DATA_DIR=data, NO_COLOR="1")

    assert b"\x1b[" in styled
    assert b"\x1b" not in plain
    assert b"Department" in plain
