"""`pilotscale validate` and `pilotscale schema`, run as a user runs them: a real process."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_cli
from tests.pilotscale.plan.helpers import edit

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "acme-ai-assistant.yaml"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # The plan files live in `cwd`; the installed pilotscale runs from anywhere.
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
    }
    env.pop("PILOTSCALE_DEBUG", None)
    return run_cli(*args, env=env, cwd=cwd)


def test_validate_a_valid_plan(tmp_path: Path, complete_plan_text: str) -> None:
    (tmp_path / "plan.yaml").write_text(complete_plan_text, encoding="utf-8")

    result = run("validate", "plan.yaml", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "plan.yaml: OK — program helpdesk-bot, 2 departments, 3 phases, 3 gates\n"
    )
    assert result.stderr == ""


def test_validate_lists_every_problem_and_exits_2(tmp_path: Path, complete_plan_text: str) -> None:
    secret = "https://chat.example.com/hooks/abc?token=tOpSeCrEt"
    text = edit(complete_plan_text, '"secret:rollout-chat-webhook"', f'"{secret}"')
    text = edit(text, "headcount: 40", "headcount: many")
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")

    result = run("validate", "broken.yaml", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "broken.yaml:18: channels[1].url: a channel or connection URL is a secret and must not be "
        "written in the plan: put it in an environment variable and write 'env:NAME', or in a "
        "Prefect Secret block and write 'secret:BLOCK-NAME'",
        "broken.yaml:52: departments[0].headcount: Input should be a valid integer, unable to "
        "parse string as an integer",
        "broken.yaml: 2 problems found",
    ]
    assert "tOpSeCrEt" not in result.stderr + result.stdout
    assert "chat.example.com" not in result.stderr + result.stdout


def test_validate_refuses_missing_essentials_with_the_other_problems_in_one_run(
    tmp_path: Path, plan_text: str
) -> None:
    # The valid plan lacks essentials (Finance: two support owners; Legal: a use case and
    # every support owner; operating: a monitoring gate); add a schema problem and a
    # cross-reference problem: all come out in one run, in file order, each once.
    text = edit(plan_text, "min_soak: 2w", "min_soak: soon")
    text = edit(text, "owner: leo.lead", "owner: leo.led")
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")

    refused = run("validate", "plan.yaml", cwd=tmp_path)
    allowed = run("validate", "plan.yaml", "--allow-incomplete", cwd=tmp_path)

    soak = (
        "plan.yaml:26: phases[1].min_soak: a duration is a whole number and a unit, e.g. '30m', "
        "'12h', '14d' or '2w'"
    )
    monitoring = (
        "warning: plan.yaml:27: phases[2].exit_gates: the last phase 'operating' has no "
        "monitoring gates, so departments in it are never watched (status says 'monitor' "
        "whatever happens): list the gates that must keep passing under its exit_gates, e.g. "
        "a usage metric"
    )
    owner = "plan.yaml:43: gates[2].owner: owner 'leo.led' is neither a person id nor"
    finance = (
        "plan.yaml:66: departments[0].support: department 'finance' has no support owner for "
        "content, governance: name a person id for each under support (technical, adoption, "
        "content, governance)"
    )
    legal_support = (
        "plan.yaml:67: departments[1].support: department 'legal' has no support owner for "
        "technical, adoption, content, governance: name a person id for each under support "
        "(technical, adoption, content, governance)"
    )
    legal_use_case = (
        "plan.yaml:67: departments[1].use_cases: department 'legal' has no use cases: add a use "
        "case under use_cases with at least one kpis: entry (kpi, target), so its value can be "
        "measured"
    )
    assert refused.returncode == 2
    lines = refused.stderr.splitlines()
    assert lines[:2] == [soak, monitoring]
    assert lines[2].startswith(owner)
    assert lines[3:] == [finance, legal_support, legal_use_case, "plan.yaml: 5 problems found"]
    assert allowed.returncode == 2  # the schema and cross-reference problems remain
    assert allowed.stderr.splitlines() == [
        soak,
        monitoring,
        lines[2],
        f"warning: {finance}",
        f"warning: {legal_support}",
        f"warning: {legal_use_case}",
        "plan.yaml: 2 problems found",
    ]


def test_validate_allow_incomplete_warns_and_passes(tmp_path: Path, plan_text: str) -> None:
    (tmp_path / "plan.yaml").write_text(plan_text, encoding="utf-8")

    refused = run("validate", "plan.yaml", cwd=tmp_path)
    allowed = run("validate", "plan.yaml", "--allow-incomplete", cwd=tmp_path)

    assert refused.returncode == 2
    assert refused.stderr.splitlines()[-1] == "plan.yaml: 3 problems found"
    assert allowed.returncode == 0, allowed.stderr
    warnings = allowed.stderr.splitlines()
    assert [w.split(": ")[1] for w in warnings] == [
        "plan.yaml:27",
        "plan.yaml:66",
        "plan.yaml:67",
        "plan.yaml:67",
    ]
    assert all(w.startswith("warning: ") for w in warnings)
    assert allowed.stdout.startswith("plan.yaml: OK")


def test_validate_a_department_without_a_sponsor_is_a_located_essential(
    tmp_path: Path, complete_plan_text: str
) -> None:
    # Not the schema's "field required": the essentials' message, at the department's line.
    text = edit(complete_plan_text, "    wave: 1\n    sponsor: ines.sponsor\n", "    wave: 1\n")
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")

    refused = run("validate", "plan.yaml", cwd=tmp_path)
    allowed = run("validate", "plan.yaml", "--allow-incomplete", cwd=tmp_path)

    missing = (
        "plan.yaml:{line}: departments[1].sponsor: department 'legal' has no sponsor: name the "
        "executive who backs it (a person id under people)"
    )
    assert refused.returncode == 2
    (problem, total) = refused.stderr.splitlines()
    line = problem.split(":")[1]
    assert text.splitlines()[int(line) - 1] == "  - name: legal"  # the department's line
    assert problem == missing.format(line=line)
    assert total == "plan.yaml: 1 problem found"
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stderr.splitlines() == [f"warning: {missing.format(line=line)}"]
    assert "field required" not in refused.stderr + allowed.stderr


def test_validate_a_last_phase_without_monitoring_is_only_a_warning(
    tmp_path: Path, complete_plan_text: str
) -> None:
    text = edit(complete_plan_text, "{name: operating, exit_gates: [weekly-active]}", "operating")
    text = text.replace("  - operating\n", "  - name: operating\n")
    (tmp_path / "plan.yaml").write_text(text, encoding="utf-8")

    result = run("validate", "plan.yaml", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "warning: plan.yaml:27: phases[2].exit_gates: the last phase 'operating' has no "
        "monitoring gates, so departments in it are never watched (status says 'monitor' "
        "whatever happens): list the gates that must keep passing under its exit_gates, e.g. "
        "a usage metric"
    ]


@pytest.mark.parametrize(
    ("content", "first_line"),
    [
        (b"program: [unclosed\n", "bad.yaml:2: (plan): YAML syntax error:"),
        (b"program:\n  name: caf\xe9\n", "bad.yaml:2: (plan): byte 0xe9 at offset 20 is not valid"),
        (
            b'a: &a ["x","x","x","x","x","x","x","x","x","x"]\n'
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 10)}]\n".encode()
                for i in range(9)
            ),
            "bad.yaml:5: (plan): the plan holds more than 100,000 values",
        ),
    ],
    ids=["syntax", "non-utf8", "billion-laughs"],
)
def test_validate_never_shows_a_traceback(tmp_path: Path, content: bytes, first_line: str) -> None:
    (tmp_path / "bad.yaml").write_bytes(content)

    result = run("validate", "bad.yaml", cwd=tmp_path)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith(first_line)
    assert lines[-1] == "bad.yaml: 1 problem found"


def test_validate_a_missing_file(tmp_path: Path) -> None:
    result = run("validate", "missing.yaml", cwd=tmp_path)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "missing.yaml:1: (plan): cannot read the plan: No such file or directory; check the path",
        "missing.yaml: 1 problem found",
    ]


def test_the_example_plan_validates_with_sales_incomplete() -> None:
    # The example's Sales has no content owner on purpose: the demo's support-model gate
    # holds it until one is named. validate refuses that; --allow-incomplete warns.
    example = str(EXAMPLE.relative_to(REPO))
    refused = run("validate", example, cwd=REPO)
    allowed = run("validate", example, "--allow-incomplete", cwd=REPO)

    missing = (
        "departments[2].support: department 'sales' has no support owner for content: name a "
        "person id for each under support (technical, adoption, content, governance)"
    )
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"{example}:325: {missing}",
        f"{example}: 1 problem found",
    ]
    assert allowed.returncode == 0, allowed.stderr
    assert allowed.stderr.splitlines() == [f"warning: {example}:325: {missing}"]
    assert allowed.stdout.startswith(
        "examples/acme-ai-assistant.yaml: OK — program acme-ai-assistant, 5 departments, 5 phases,"
    )


def test_schema_prints_a_json_schema_for_editors(tmp_path: Path) -> None:
    result = run("schema", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "pilotscale rollout plan"
    assert set(schema["required"]) == {"program", "people", "phases", "departments"}
    assert schema["additionalProperties"] is False


def test_schema_out_writes_the_file(tmp_path: Path) -> None:
    result = run("schema", "--out", "plan.schema.json", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    written = json.loads((tmp_path / "plan.schema.json").read_text(encoding="utf-8"))
    assert written == json.loads(run("schema", cwd=tmp_path).stdout)
    assert "# yaml-language-server: $schema=plan.schema.json" in result.stderr


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("validate", "pilotscale validate examples/acme-ai-assistant.yaml"),
        ("schema", "# yaml-language-server: $schema=pilotscale-plan.schema.json"),
    ],
)
def test_help_shows_an_example(tmp_path: Path, command: str, example: str) -> None:
    result = run(command, "--help", cwd=tmp_path)

    assert result.returncode == 0
    assert example in result.stdout
