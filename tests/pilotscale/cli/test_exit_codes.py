"""Exit codes by kind, through the installed `pilotscale` command: a script tells a
usage error or refusal (2) from an unknown name (3), a conflict (4), a failure (1) and
work done with warnings (5) without reading the message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from pilotscale.cli.launch import Launched
from pilotscale.refusal import EXIT_CODES_HELP, Exit

PILOTSCALE = str(Path(sys.executable).with_name("pilotscale"))
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "acme-ai-assistant.yaml"
LEAD = "maria.lopez@acme.example"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    return subprocess.run(
        [PILOTSCALE, *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    data = str(tmp_path_factory.mktemp("exit-codes"))
    applied = _run("apply", str(EXAMPLE), "--allow-incomplete", PILOTSCALE_DATA_DIR=data)
    assert applied.returncode == 0, applied.stderr
    return data


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--version"], Exit.ok, ""),
        (["status", "--no-such-option"], Exit.refused, "error: No such option: --no-such-option"),
        (["stauts"], Exit.refused, "error: No such command 'stauts'"),
        (["start"], Exit.refused, "error: Missing argument 'department'."),
        (["start", "hr"], Exit.refused, "error: say who you are"),  # a usage error
        (["start", "hr", "--by", "nobody@acme.example"], Exit.refused, "error: "),  # forbidden
        (["explain", "hrr"], Exit.not_found, "error: unknown department 'hrr'; did you mean"),
        (["pause", "hr", "--by", LEAD, "--reason", "x"], Exit.conflict, "error: "),  # planned
    ],
)
def test_each_kind_of_outcome_has_its_exit_code(
    data_dir: str, args: list[str], code: int, says: str
) -> None:
    done = _run(*args, PILOTSCALE_DATA_DIR=data_dir)

    assert done.returncode == code, done.stderr
    assert done.stderr.startswith(says)
    assert len(done.stderr.splitlines()) <= 2  # one line, and at most a hint


def test_a_store_that_cannot_be_reached_is_a_failure(tmp_path: Path) -> None:
    done = _run(
        "status",
        PILOTSCALE_DATA_DIR=str(tmp_path),
        PILOTSCALE_DATABASE_URL="postgresql://nobody@127.0.0.1:1/nothing",
    )

    assert done.returncode == Exit.failure, done.stderr
    assert done.stderr.startswith("error: cannot connect to the store")


def test_a_usage_error_is_one_line_and_a_hint_not_a_panel(data_dir: str) -> None:
    done = _run("status", "--no-such-option", PILOTSCALE_DATA_DIR=data_dir)

    assert done.stderr.splitlines() == [
        "error: No such option: --no-such-option",
        "hint: see `pilotscale status --help`",
    ]
    assert done.stdout == ""


def test_help_lists_the_exit_codes_and_shows_no_python_types() -> None:
    shown = _run("--help", COLUMNS="200")
    options = _run("apply", "--help", COLUMNS="200")

    assert shown.returncode == options.returncode == 0
    assert EXIT_CODES_HELP in " ".join(shown.stdout.split())
    assert "<bool>" not in options.stdout
    assert "<path>" not in options.stdout
    assert "PATH" in options.stdout


def test_help_paragraphs_wrap_to_the_terminal_not_to_the_docstring() -> None:
    wide = _run("apply", "--help", COLUMNS="200").stdout

    # One paragraph of the docstring, written over two lines there, is one line here.
    assert "A plan that would drop a department already in flight is refused" in wide
    # "... is refused" ends one docstring line and "(exit code 4) unless --force" starts the next.
    line = next(x for x in wide.splitlines() if "already in flight is refused" in x)
    assert "already in flight is refused (exit code 4)" in line


def test_a_run_left_queued_is_done_with_a_warning_and_says_to_start_a_worker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    queued = Launched(remote_summary="check: Late — not finished yet", left_queued="start one")
    said: list[str] = []

    with pytest.raises(typer.Exit) as ended:
        queued.report_remote(said.append)

    assert ended.value.exit_code == Exit.warnings
    assert said == ["check: Late — not finished yet"]
    assert "hint: start one" in capsys.readouterr().err
    Launched(remote_summary="check (completed)").report_remote(said.append)  # no exit


@pytest.mark.slow
def test_a_check_whose_messages_are_not_delivered_exits_5_and_counts_them(data_dir: str) -> None:
    """No channel is configured: every message the check sends fails; the summary says
    so, by count, and the libraries' own log lines stay out of it."""
    started = _run("start", "hr", "--by", LEAD, PILOTSCALE_DATA_DIR=data_dir)
    checked = _run("check", PILOTSCALE_DATA_DIR=data_dir)

    assert started.returncode == 0, started.stderr
    assert checked.returncode == Exit.warnings, checked.stderr
    summary = checked.stdout.splitlines()[0]
    assert "in each phase now: 3 planned, 1 preparing, 1 operating" in summary
    for count in (" queued, ", " 0 sent, ", " failed, ", " left pending"):
        assert count in summary
    # Besides the one line saying Prefect is starting (not a terminal: no spinner).
    lines = [x for x in checked.stderr.splitlines() if not x.startswith("starting Prefect")]
    assert lines[0].endswith("message(s) not delivered")
    assert lines[-1].startswith("hint: they are retried")
    assert all(line.startswith(("warning: ", "hint: ")) for line in lines)


@pytest.mark.parametrize("args", [["--help"], ["status"], ["explain", "hr"], ["status", "--nope"]])
def test_output_that_is_not_a_terminal_is_plain_text(data_dir: str, args: list[str]) -> None:
    """A pipe or a CI log gets no colour, bold or italic escapes (the pseudo-terminal tests
    in test_conventions show that a terminal does get them)."""
    done = _run(*args, PILOTSCALE_DATA_DIR=data_dir, TERM="xterm-256color")

    assert done.stdout + done.stderr
    assert "\x1b" not in done.stdout + done.stderr
