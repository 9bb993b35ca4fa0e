"""Hostile metrics files: whatever a CSV or JSON export holds, `pilotscale metrics import`
checks every row first and either imports or lists problems as FILE:ROW: ..., exits 2
and writes nothing; never a traceback.

Most inputs go through the same checking pass the command runs, in-process; a sample
goes through the real command in a subprocess, against a store whose hash must not move.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotscale.cli.commands.metrics_cmds import _check
from pilotscale.metrics.ingest import Catalog
from pilotscale.metrics.reader import RecordFile
from pilotscale.plan.loader import load_plan
from tests.security.hostile import EXAMPLE, LOCATED, WRONG_DATES, line_count
from tests.security.test_hostile_plans import cli, store_hash

PLAN = load_plan(EXAMPLE).plan
CATALOG = Catalog(PLAN, departments=[d.name for d in PLAN.departments])
DEPARTMENTS = [d.name for d in PLAN.departments]
METRICS = [m.name for m in PLAN.metrics]
HEADER = "department,metric,value,observed_at,segment"
PROPERTY = settings(
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

junk = st.text(st.characters(codec="utf-8"), max_size=12)
cells = {
    "department": st.sampled_from(DEPARTMENTS) | junk,
    "metric": st.sampled_from(METRICS) | junk,
    "value": st.sampled_from(["0.5", "1,5", "NaN", "inf", "-inf", "1e999", "", "0x1", "½"])
    | st.floats().map(str)
    | junk,
    "observed_at": st.sampled_from([*WRONG_DATES, "2026-11-02", "2026-11-02T09:00:00+01:00"])
    | junk,
    "segment": st.sampled_from(["", "power", "casual", "POWER", "admin"]) | junk,
}


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n\r') else text


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str]:
    header = draw(st.sampled_from([HEADER, HEADER.upper(), "department,value", "a,b,c", ""]))
    lines = [header]
    for _ in range(draw(st.integers(0, 8))):
        row = [draw(cells[c]) for c in ("department", "metric", "value", "observed_at", "segment")]
        cut = draw(st.integers(0, 7))
        lines.append(",".join(_csv_cell(c) for c in [*row, "extra", "more"][:cut]))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace"), "csv"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | junk,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from([*cells, "x"]) | junk, children, max_size=5)
    ),
    max_leaves=15,
)


@st.composite
def json_files(draw: st.DrawFn) -> tuple[bytes, str]:
    records = draw(st.lists(st.fixed_dictionaries({}, optional=cells) | json_values, max_size=6))
    if draw(st.booleans()):
        return json.dumps(records).encode(), "json"
    lines = [json.dumps(r) for r in records]
    if lines and draw(st.booleans()):
        lines[draw(st.integers(0, len(lines) - 1))] += draw(st.sampled_from(["{", "}", ",", "x"]))
    return "\n".join(lines).encode(), "jsonl"


def check_outcome(directory: Path, data: bytes, fmt: str) -> str:
    """'valid' or 'problems' from the command's own checking pass; every problem located."""
    path = directory / f"metrics.{fmt}"
    path.write_bytes(data)
    _, problems, total = _check(RecordFile(path, fmt), "observations", CATALOG)  # type: ignore[arg-type]
    assert (total == 0) == (not problems)
    for problem in problems:
        line = problem.render(path.name)
        assert "\n" not in line, f"a problem split over lines: {line!r}"
        assert "\r" not in line, f"a problem split over lines: {line!r}"
        found = LOCATED.match(line)
        assert found, line
        assert found["file"] == path.name, line
        assert int(found["line"]) >= 1, line
        if fmt != "json":  # JSON arrays count records, not lines
            assert int(found["line"]) <= line_count(data) + 1, line
    return "problems" if total else "valid"


@pytest.mark.parametrize(
    ("strategy", "examples"),
    [
        pytest.param(csv_files(), 300, id="csv"),
        pytest.param(json_files(), 300, id="json"),
        pytest.param(
            st.tuples(st.binary(max_size=300), st.sampled_from(["csv", "json"])), 200, id="bytes"
        ),
    ],
)
def test_any_metrics_file_is_valid_or_located_problems(
    tmp_path: Path,
    strategy: st.SearchStrategy[tuple[bytes, str]],
    examples: int,
    figure: Callable[[str], None],
) -> None:
    tried: list[str] = []

    @settings(PROPERTY, max_examples=examples)
    @given(case=strategy)
    def check(case: tuple[bytes, str]) -> None:
        tried.append(check_outcome(tmp_path, *case))

    check()

    figure(
        f"{len(tried)} files tried, {tried.count('problems')} refused with located problems, "
        f"{tried.count('valid')} valid, 0 tracebacks"
    )
    assert tried.count("problems") > 0


def _bad_rows(count: int) -> bytes:
    rows = "".join(f"hr,weekly_active_rate,0.{i % 10},31/12/2026\n" for i in range(count))
    return (HEADER.rsplit(",", 1)[0] + "\n" + rows).encode()


METRICS_SAMPLE: dict[str, tuple[bytes, str]] = {
    "utf-16": (codecs.BOM_UTF16_LE + (HEADER + "\nhr,x,1,2026-11-02\n").encode("utf-16-le"), "csv"),
    "latin-1": (
        f"{HEADER}\nhr,weekly_active_rate,0.5,2026-11-02,poder\xe9\n".encode("latin-1"),
        "csv",
    ),
    "nul-byte": (f"{HEADER}\nhr\x00,weekly_active_rate,0.5,2026-11-02\n".encode(), "csv"),
    "wrong-dates": (
        (
            HEADER
            + "\n"
            + "".join(f"hr,weekly_active_rate,0.5,{_csv_cell(d)}\n" for d in WRONG_DATES)
        ).encode(),
        "csv",
    ),
    "newline-in-a-value": (
        f'{HEADER}\nhr,weekly_active_rate,"0.5\nrm -rf",2026-11-02\n'.encode(),
        "csv",
    ),
    "100k-bad-rows": (_bad_rows(100_000), "csv"),
    "truncated-json": (b'[{"department": "hr", "metric": "weekly_active_rate", "val', "json"),
    "deep-json": (b"[" * 100_000 + b"]" * 100_000, "json"),
}


@pytest.mark.slow
def test_the_real_import_exits_2_with_located_lines_and_writes_nothing(
    tmp_path: Path, figure: Callable[[str], None]
) -> None:
    store = tmp_path / "data" / "pilotscale.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(PILOTSCALE_DATA_DIR=str(tmp_path / "data"))
    assert cli("apply", str(EXAMPLE), "--allow-incomplete", cwd=tmp_path, env=env).returncode == 0
    before = store_hash(store)

    for name, (data, fmt) in METRICS_SAMPLE.items():
        file = f"metrics.{fmt}"
        (tmp_path / file).write_bytes(data)
        result = cli("metrics", "import", file, cwd=tmp_path, env=env)
        assert result.returncode == 2, f"{name}: exit {result.returncode}: {result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr, name
        assert "unexpected" not in result.stderr, f"{name}: {result.stderr}"
        *problems, summary = result.stderr.strip().splitlines()
        assert summary.startswith(f"error: {file}: "), f"{name}: {summary}"
        assert problems, name
        for line in problems:
            found = LOCATED.match(line)
            assert found, f"{name}: {line!r}"
            assert found["file"] == file, f"{name}: {line!r}"
        assert store_hash(store) == before, f"{name} changed the store"

    figure(
        f"{len(METRICS_SAMPLE)} hostile files through the real import: all exit 2, "
        "every problem located, 0 tracebacks, store unchanged"
    )
