"""Hostile plan files: whatever the bytes, loading a plan either succeeds or fails with
problems located as FILE:LINE, never with another exception; `pilotscale validate` and
`apply` exit 2 with those lines and no traceback, and `apply` leaves the store as it was.

Most inputs go through the in-process loader (fast); a sample goes through the real
command in a subprocess.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotscale.plan.loader import load_plan_text
from pilotscale.plan.problems import PlanError
from tests.cli import run_cli
from tests.security.hostile import (
    EXAMPLE,
    NAMED,
    any_bytes,
    any_text,
    line_count,
    located_problems,
    mutated_example,
    wrong_shapes,
)

FILENAME = "plan.yaml"
SLOW_NAMED = {"huge-plan-under-the-cap"}  # several seconds of pure-Python YAML
PROPERTY = settings(
    deadline=None,
    derandomize=True,  # the same inputs in CI and on a laptop
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def load_outcome(data: bytes) -> str:
    """'valid' or 'problems'; raises AssertionError for anything a person could not act on."""
    try:
        load_plan_text(data, FILENAME)
    except PlanError as exc:
        problems = exc.problems
    else:
        return "valid"
    assert problems, "a PlanError with no problem in it"
    text = "\n".join(str(p) for p in problems)
    assert located_problems(text, FILENAME, line_count(data)) == []
    return "problems"


@pytest.mark.parametrize(
    "name",
    [pytest.param(name, marks=pytest.mark.slow) if name in SLOW_NAMED else name for name in NAMED],
)
def test_a_named_hostile_plan_is_refused_with_located_problems(name: str) -> None:
    started = time.monotonic()

    outcome = load_outcome(NAMED[name])

    assert time.monotonic() - started < 30
    if name not in {"windows-newlines", "old-mac-newlines", "date '2026-12-31'"}:
        assert outcome == "problems", f"{name} was accepted"


@pytest.mark.parametrize(
    ("strategy", "examples"),
    [
        pytest.param(any_bytes, 300, id="random-bytes"),
        pytest.param(any_text, 300, id="random-text"),
        pytest.param(wrong_shapes(), 200, id="yaml-of-the-wrong-shape"),
        pytest.param(mutated_example(), 300, id="mutated-example", marks=pytest.mark.slow),
    ],
)
def test_any_input_is_valid_or_located_problems(
    strategy: st.SearchStrategy[bytes], examples: int, figure: Callable[[str], None]
) -> None:
    tried: list[str] = []

    @settings(PROPERTY, max_examples=examples)
    @given(data=strategy)
    def check(data: bytes) -> None:
        tried.append(load_outcome(data))

    check()

    figure(
        f"{len(tried)} inputs tried, {tried.count('problems')} refused with located problems, "
        f"{tried.count('valid')} valid, 0 tracebacks"
    )
    assert tried.count("problems") > 0


# --------------------------------------------------------------------------- the real command

CLI_SAMPLE = [
    "billion-laughs",
    "deep-flow-lists",
    "huge-file",
    "utf-16-with-bom",
    "latin-1",
    "python-tag",
    "two-documents",
    "date 31/12/2026",
]
APPLY_SAMPLE = ["billion-laughs", "utf-16-with-bom", "date 31/12/2026"]


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, cwd=cwd)


def store_hash(path: Path) -> str:
    """Every row of every table, in a stable order."""
    digest = hashlib.sha256()
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}" ORDER BY 1'):
                digest.update(repr((table, row)).encode())
    return digest.hexdigest()


@pytest.mark.slow
def test_the_real_commands_exit_2_with_located_lines_and_leave_the_store_alone(
    tmp_path: Path, figure: Callable[[str], None]
) -> None:
    store = tmp_path / "data" / "pilotscale.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(PILOTSCALE_DATA_DIR=str(tmp_path / "data"))
    applied = cli("apply", str(EXAMPLE), "--allow-incomplete", cwd=tmp_path, env=env)
    assert applied.returncode == 0, applied.stderr
    before = store_hash(store)
    runs = 0

    for name in CLI_SAMPLE:
        data = NAMED[name]
        (tmp_path / FILENAME).write_bytes(data)
        commands = [["validate"], ["apply"]] if name in APPLY_SAMPLE else [["validate"]]
        for command in commands:
            result = cli(*command, FILENAME, cwd=tmp_path, env=env)
            runs += 1
            where = f"{' '.join(command)} {name}"
            assert result.returncode == 2, f"{where}: exit {result.returncode}"
            assert "Traceback" not in result.stdout + result.stderr, where
            assert result.stdout == "", where
            assert result.stderr.strip(), where
            assert located_problems(result.stderr, FILENAME, line_count(data)) == [], where
        assert store_hash(store) == before, f"{name} changed the store"

    figure(
        f"{runs} runs of the real command on {len(CLI_SAMPLE)} hostile files: all exit 2, "
        "every line located, 0 tracebacks, store unchanged"
    )
