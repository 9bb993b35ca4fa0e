"""`pilotscale report`'s one line: the page holds every department, the line stays one
line at any size (it named all 1,200 held departments of a 2,000-department store)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from pilotscale.cli.commands.report_cmds import HELD_NAMED
from tests.cli import run_cli_here
from tests.pilotscale.engine import helpers as h
from tests.plans import plan_dict

COUNT = HELD_NAMED + 5


def test_the_line_names_the_first_held_departments_and_counts_the_rest(
    configured_store: Engine, tmp_path: Path
) -> None:
    names = h.names(COUNT)
    h.apply(configured_store, plan_dict(COUNT))
    h.start(configured_store, names)
    out = tmp_path / "report.html"

    done = run_cli_here("report", "--out", str(out), "--as-of", h.day(2).isoformat())

    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert len(line.splitlines()) == 1
    held = line.split("held: ", 1)[1].split(";", 1)[0]
    assert held == ", ".join(names[:HELD_NAMED]) + f" and {COUNT - HELD_NAMED} more"
    page = out.read_text(encoding="utf-8")
    assert all(name in page for name in names)
