"""Every string from a plan, the store or a person reaches the terminal as text: never
Rich markup (`[/oops]` ended `status` with a MarkupError, and a `--reason "[/] x"`
broke `history` for good, transitions being append-only), never a control code (ESC
sequences clear the screen or retitle the window, C1 codes do the same on 8-bit
terminals, a carriage return or a bidi override hides what follows).

Generated strings of brackets, backslashes, escape sequences and controls go into every
text field of the example plan (program, departments, people, gates, KPIs, metrics, a
blackout's reason) and into `--reason`, `--comment` and `--evidence`; then every command
that prints plan or store text runs through the real entry point, in this process. Each
must exit as it would with plain text, print no control character, and `--json` output
must stay JSON that gives the exact strings back.
"""

from __future__ import annotations

import csv as csv_module
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pilotscale.db import dispose_engines, get_engine
from pilotscale.settings import get_settings
from tests.cli import run_cli, run_cli_here
from tests.security.hostile import EXAMPLE

# What a terminal acts on instead of showing: C0 but tab and newline, DEL, C1, and the
# bidi and line-separator characters that reorder or split what is shown.
RAW_CONTROL = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)
FRAGMENTS = [
    "[/]",
    "[/oops]",
    "[bold red]",
    "[link=https://evil.example]",
    "\\",
    "\\[b]",
    ":warning:",
    "\x1b[2J",
    "\x1b]0;pwned\x07",
    "\x1b]8;;https://evil.example\x1b\\",
    "\x1bc",
    "\x9b2J",
    "\x9d0;pwned\x9c",
    "\r",
    "\x08",
    "\x07",
    "\x7f",
    "\x85",
    "\u202e",
    "\u2066",
    "\u2028",
    "\t",
    "\n",
    "é",
    "😀",
]
hostile = (
    st.lists(
        st.sampled_from(FRAGMENTS)
        | st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFF), max_size=3),
        min_size=1,
        max_size=6,
    )
    .map("".join)
    .filter(lambda s: s.strip() != "")
)

LEAD = "maria.lopez@acme.example"
TECHNICAL = "helpdesk@acme.example"  # it.helpdesk, owner of production-monitoring
APPROVER = "elena.garcia@acme.example"  # approves executive-go-ahead (the lead rolled back)


def raw_controls(output: str) -> list[str]:
    return sorted({repr(c) for c in RAW_CONTROL.findall(output)})


def poisoned_plan(s: list[str], *, blackout: bool = True) -> dict[str, Any]:
    """The example plan with hostile text in every free-text field (and HR in a blackout
    whose reason is hostile too, unless not `blackout`)."""
    plan = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    program = plan["program"]
    program["title"] = s[0]
    program["description"] = s[1]
    program["talking_points"] = [s[2]]
    for kpi in program["kpis"]:
        kpi["title"] = s[3]
    for resource in program["resources"]:
        resource["title"] = s[4]
    for metric in plan["metrics"]:
        metric["title"] = s[5]
    for i, person in enumerate(plan["people"]):
        person["name"] = s[i % len(s)]
    for gate in plan["gates"]:
        gate["title"] = s[6]
        gate["how_to_fix"] = s[7]
        gate["source"] = s[0]
        if "checklist" in gate:
            gate["checklist"] = s[1]
    for department in plan["departments"]:
        department["title"] = s[2]
        for use_case in department.get("use_cases", []):
            use_case["title"] = s[3]
        for modules in department.get("training", {}).values():
            for module in modules:
                module["title"] = s[4]
    if blackout:
        hr = next(d for d in plan["departments"] if d["name"] == "hr")
        hr["blackout"] = [{"start": "2026-01-01", "end": "2030-12-31", "reason": s[5]}]
    return plan


def commands(plan: Path, csv: Path, out: Path, s: list[str]) -> list[tuple[list[str], int]]:
    """Every command that prints plan or store text, each with the exit code it must end
    with, in an order that leaves something for the next one to show."""
    reason, comment, evidence = s[6], s[7], s[0]
    cs = "customer-service"
    by = ["--by", LEAD]
    return [
        (["validate", str(plan), "--allow-incomplete"], 0),  # Sales: no content owner
        (["apply", str(plan), "--allow-incomplete"], 0),
        (["apply", str(plan), "--dry-run", "--allow-incomplete"], 0),
        (["status"], 0),
        (["status", "--json"], 0),
        (["explain", cs], 0),
        (["explain", "hr"], 0),  # not started, and why not: the blackout's reason
        (["start", "hr", *by], 4),  # refused: in a blackout (a conflict, by its kind)
        (["pause", cs, *by, f"--reason={reason}"], 0),
        (["pause", cs, *by, f"--reason={reason}"], 4),  # already paused
        (["resume", cs, *by, f"--reason={comment}"], 0),
        (["attest", cs, "production-monitoring", "--by", TECHNICAL, f"--evidence={evidence}"], 0),
        (["rollback", cs, "--to", "scaling", *by, f"--reason={reason}"], 0),
        (["resume", cs, *by, f"--reason={reason}"], 0),
        (["reject", cs, "executive-go-ahead", "--by", APPROVER, f"--comment={reason}"], 0),
        (["approve", cs, "executive-go-ahead", "--by", APPROVER, f"--comment={comment}"], 0),
        (["approve", cs, "executive-go-ahead", "--by", APPROVER, f"--comment={comment}"], 0),
        (["approve", cs, "executive-go-ahead", *by, f"--comment={comment}"], 2),  # requested it
        (["barrier", cs, "--by", TECHNICAL, "--area", "technical", f"--text={reason}"], 0),
        (["explain", cs], 0),
        (["history", cs], 0),
        (["history", cs, "--json"], 0),
        (["outbox"], 0),
        (["outbox", "--json"], 0),
        (["metrics", "import", str(csv)], 2),  # its rows hold hostile text: located problems
        (["report", "--out", str(out)], 0),
        (["explain", "--", reason], 3),  # an unknown department, named in the error line
        (["status", f"--as-of={comment}"], 2),  # a bad date, quoted in the error line
    ]


@contextmanager
def data_dir(template: Path) -> Iterator[Path]:
    """A data dir with its own store (a copy of a migrated empty one), used by the CLI."""
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        shutil.copy(template, directory / "pilotscale.db")
        get_settings.cache_clear()
        try:
            yield directory
        finally:
            dispose_engines()
            get_settings.cache_clear()


@pytest.fixture
def migrated_store(tmp_path: Path) -> Path:
    path = tmp_path / "template" / "pilotscale.db"
    get_engine(f"sqlite:///{path}")
    dispose_engines()
    return path


def check_run(
    strings: list[str], directory: Path, run: Callable[..., subprocess.CompletedProcess[str]]
) -> int:
    """Runs every command; returns how many ran. Fails on a wrong exit or a control code."""
    plan = directory / "plan.yaml"
    plan.write_text(yaml.safe_dump(poisoned_plan(strings), allow_unicode=True), encoding="utf-8")
    csv = directory / "usage.csv"
    with csv.open("w", encoding="utf-8", newline="") as handle:
        writer = csv_module.writer(handle)
        writer.writerow(["department", "metric", "value", "observed_at"])
        for i in range(3):
            writer.writerow([strings[i], "weekly_active_rate", strings[i + 1], "2026-11-02"])
    ran = 0
    for args, expected in commands(plan, csv, directory / "report.html", strings):
        result = run(*args)
        ran += 1
        where = f"{args[0]} {args[1:3]} with {strings!r}"
        assert result.returncode == expected, f"{where}: exit {result.returncode}\n{result.stderr}"
        assert "Traceback" not in result.stderr, where
        assert raw_controls(result.stdout) == [], f"{where}: stdout"
        assert raw_controls(result.stderr) == [], f"{where}: stderr"
        if expected == 2:
            assert len(result.stderr.splitlines()) == 1 or args[:2] == ["metrics", "import"], where
        if "--json" in args:
            data = json.loads(result.stdout)  # still JSON, and the strings are exact
            if args[0] == "status":
                assert data["departments"][0]["title"] == strings[2]
            if args[0] == "history":
                assert strings[6] in [row["reason"] for row in data]
    return ran


@pytest.mark.parametrize("examples", [12])
def test_hostile_text_is_shown_as_text_by_every_command(
    examples: int, migrated_store: Path, monkeypatch: pytest.MonkeyPatch, figure: Any
) -> None:
    ran: list[int] = []
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("PILOTSCALE_DATABASE_URL", raising=False)

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(strings=st.lists(hostile, min_size=8, max_size=8))
    def check(strings: list[str]) -> None:
        with data_dir(migrated_store) as directory:
            monkeypatch.setenv("PILOTSCALE_DATA_DIR", str(directory))
            ran.append(check_run(strings, directory, run_cli_here))

    check()

    figure(
        f"{len(ran)} sets of 8 hostile strings through {sum(ran)} commands in process: "
        "every exit as expected, 0 control characters on stdout or stderr, JSON exact"
    )


# --------------------------------------------------------------------------- flows and the demo

FIXED = [
    "ACME [/oops] \x1b]0;pwned\x07",
    "clear \x1b[2J [bold]",
    "Human [/] \x9b2J Resources",
    "kpi \u202eexe.txt",
    "hidden\r shown \x08",
    "metric \x1bc :warning:",
    "gate [/] \x9d0;pwned\x9c",
    "fix \x1b[31m red \\",
]
LINE_VALUE = re.compile(r"^(\s*)(title|checklist|how_to_fix): (?![{\[]).+$", re.MULTILINE)
FLOW_VALUE = re.compile(r"([{,] )(title|name): ([^,}\"]+)")


def poisoned_example(strings: list[str]) -> str:
    """The example plan's own text with hostile titles, checklists, advice and people's
    names (the demo edits the plan's text, so its layout stays)."""
    quoted = [
        yaml.safe_dump(s, default_style='"', width=float("inf"), allow_unicode=True).strip()
        for s in strings
    ]
    count = iter(range(10_000))

    def next_value() -> str:
        return quoted[next(count) % len(quoted)]

    text = LINE_VALUE.sub(lambda m: f"{m[1]}{m[2]}: {next_value()}", EXAMPLE.read_text("utf-8"))
    lines = []
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith(("- {id:", "- {name:", "- {title:")):
            line = FLOW_VALUE.sub(lambda m: f"{m[1]}{m[2]}: {next_value()}", line)
        lines.append(line)
    return "".join(lines)


def subprocess_env(directory: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(
        COLUMNS="200",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PILOTSCALE_DATA_DIR=str(directory / "data"),
    )
    env.pop("PREFECT_API_URL", None)
    return env


@pytest.mark.slow
def test_flow_commands_show_hostile_text_as_text(tmp_path: Path, figure: Any) -> None:
    """start, rollout, check and dispatch run their flows here (Prefect's ephemeral API),
    as separate processes: their lines, and Prefect's, are text too."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump(poisoned_plan(FIXED), allow_unicode=True), encoding="utf-8")
    env = subprocess_env(tmp_path)
    by = ["--by", LEAD]
    steps: list[tuple[list[str], int]] = [
        (["apply", str(plan), "--allow-incomplete"], 0),
        (["rollout", *by, "--as-of", "2026-11-02"], 0),  # sales starts; hr waits: blackout
        (["start", "sales", *by, f"--reason={FIXED[6]}", "--as-of", "2026-11-02"], 0),  # again
        (["check", "--as-of", "2026-11-09"], 5),  # no channel is configured: not delivered
        (["dispatch", "--as-of", "2026-11-09"], 0),
        (["status", "--as-of", "2026-11-09"], 0),
        (["history", "sales"], 0),
        (["outbox"], 0),
    ]
    for args, expected in steps:
        result = run_cli(*args, env=env, timeout=300)
        where = " ".join(args[:2])
        assert result.returncode == expected, f"{where}: {result.stderr}"
        assert "Traceback" not in result.stderr, where
        assert raw_controls(result.stdout) == [], f"{where}: stdout {result.stdout!r}"
        assert raw_controls(result.stderr) == [], f"{where}: stderr {result.stderr!r}"
        if args[0] == "rollout":
            assert "hr waits: " in result.stdout
            assert plain_form(FIXED[5]) in result.stdout  # the blackout's reason, shown

    figure(f"{len(steps)} flow and view commands in their own processes: 0 control characters")


@pytest.mark.slow
def test_the_demo_shows_hostile_text_as_text(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(poisoned_example(FIXED), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "pilotscale.demo", str(plan)],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert "demo finished" in result.stdout
    assert raw_controls(result.stdout) == [], result.stdout
    assert raw_controls(result.stderr) == [], result.stderr


def plain_form(value: str) -> str:
    """How the terminal shows `value`: each control character as its escape."""
    return "".join(
        c
        if not RAW_CONTROL.match(c)
        else {"\n": "\\n", "\r": "\\r"}.get(
            c, f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
        )
        for c in value
    )
