"""The shell is thin: tasks and flows call the engine and the store, they hold no query
and no rule of their own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SHELL = sorted((ROOT / "tasks").glob("*.py")) + sorted((ROOT / "flows").glob("*.py"))
# A query or a session of their own: what store/ and the engine are for.
SQL = re.compile(r"\bselect\(|\.exec\(|\.execute\(|\bSession\(|from sqlmodel")
# Rules about people: pilotscale.core.permissions holds them.
RULES = re.compile(r"\bidentify\(|\bmay_\w+\(|Role\.lead|program\.lead")


@pytest.mark.parametrize("path", SHELL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_sql_and_no_permission_rule_in_the_shell(path: Path) -> None:
    source = path.read_text()

    assert not SQL.findall(source), f"{path.name}: move the query to pilotscale/store"
    assert not RULES.findall(source), f"{path.name}: the rule belongs in the core or engine"


def test_every_flow_that_dispatches_ends_through_finish() -> None:
    for path in (ROOT / "flows").glob("*.py"):
        if path.name in ("finish.py", "dispatch.py"):
            continue
        assert "dispatch_now" not in path.read_text(), f"{path.name}: end with finish()"
