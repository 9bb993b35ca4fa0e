"""`--json` keys are an interface: scripts read them. These are the documented ones (the
README's "--json keys"); a key renamed or dropped fails here first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pilotscale.refusal import Exit

PILOTSCALE = str(Path(sys.executable).with_name("pilotscale"))
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "acme-ai-assistant.yaml"
LEAD = "maria.lopez@acme.example"

EXPLAIN = {
    "program", "as_of", "name", "title", "wave", "phase", "status", "version",
    "phase_entered_at", "started", "outlook", "overall", "gates", "next_step",
}  # fmt: skip
GATE = {
    "gate", "kind", "outcome", "observed", "observed_text", "threshold", "reason",
    "pending_checks", "stuck", "label", "waived_until", "advisory", "owner",
}  # fmt: skip
CHECK = {"check_key", "tally", "phases", "messages", "decisions", "warnings", "delivery_errors"}


def _run(*args: str, data: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    return subprocess.run(
        [PILOTSCALE, *args],
        env={**env, "PILOTSCALE_DATA_DIR": data},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = str(tmp_path_factory.mktemp("json"))
    assert _run("apply", str(EXAMPLE), "--allow-incomplete", data=folder).returncode == 0
    return folder


def test_db_current(data: str) -> None:
    shown = _run("db", "current", "--json", data=data)

    assert shown.returncode == 0, shown.stderr
    current = json.loads(shown.stdout)
    assert set(current) == {"revision", "head", "up_to_date", "store"}
    assert current["up_to_date"] is True
    assert current["revision"] == current["head"]


def test_explain_of_a_department_not_started_says_when_it_may(data: str) -> None:
    shown = _run("explain", "sales", "--json", data=data)

    assert shown.returncode == 0, shown.stderr
    sales = json.loads(shown.stdout)
    assert set(sales) == EXPLAIN
    assert (sales["name"], sales["started"], sales["gates"]) == ("sales", False, [])
    assert sales["outlook"].startswith("Not started.")


def test_explain_of_a_started_department_lists_its_gates(data: str) -> None:
    shown = _run("explain", "customer-service", "--json", data=data)

    assert shown.returncode == 0, shown.stderr
    department = json.loads(shown.stdout)
    assert set(department) == EXPLAIN
    assert department["started"] is True
    assert department["gates"]
    assert all(set(gate) == GATE for gate in department["gates"])
    assert department["next_step"]


def test_explain_of_an_unknown_department_is_an_error_not_json(data: str) -> None:
    shown = _run("explain", "nope", "--json", data=data)

    assert shown.returncode == Exit.not_found
    assert shown.stdout == ""


@pytest.mark.slow
def test_start_rollout_and_check(data: str) -> None:
    started = _run("start", "hr", "--by", LEAD, "--json", data=data)
    rolled = _run("rollout", "--by", LEAD, "--json", data=data)
    checked = _run("check", "--json", data=data)

    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout) == {
        "department": "hr",
        "started": True,
        "phase": "preparing",
        "overridden": [],
    }
    assert rolled.returncode == 0, rolled.stderr
    assert set(json.loads(rolled.stdout)) == {"started", "waiting"}
    # No channel is configured in this store: the messages fail, exit 5, still JSON.
    assert checked.returncode == Exit.warnings, checked.stderr
    result = json.loads(checked.stdout)
    assert set(result) == CHECK
    assert set(result["messages"]) == {"queued", "sent", "failed", "pending", "waiting"}
    assert result["messages"]["failed"] > 0
    assert sum(result["phases"].values()) == 5
