"""`pilotscale templates check`: every template rendered with samples, problems listed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pilotscale.notifications.render import Renderer
from pilotscale.notifications.template_check import check_templates
from tests.cli import run_cli


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **env})


def _broken_templates(root: Path) -> tuple[Path, Path]:
    (root / "gate_held").mkdir(parents=True)
    bad = root / "gate_held" / "chat.md"
    bad.write_text("**Held**\n{{ gate.missing_key }}\n")
    (root / "gate_hled").mkdir()
    unsafe = root / "gate_held" / "email.txt"
    unsafe.write_text("{{ ''.__class__ }}\n")
    return bad, unsafe


def test_the_packaged_templates_have_no_problem() -> None:
    assert check_templates(Renderer()) == []


def test_problems_in_user_templates_are_listed_with_file_and_line(tmp_path: Path) -> None:
    bad, unsafe = _broken_templates(tmp_path)

    problems = [str(p) for p in check_templates(Renderer(tmp_path))]

    assert f"{bad}:2: undefined: 'dict object' has no attribute 'missing_key'" in problems
    assert any(p.startswith(f"{unsafe}:1: not allowed in a template") for p in problems)
    assert any(p.startswith(f"{tmp_path / 'gate_hled'}: unknown event folder") for p in problems)
    assert len(problems) == 3


def test_the_cli_exits_2_and_prints_each_problem(tmp_path: Path) -> None:
    bad, _ = _broken_templates(tmp_path / "templates")

    result = _run(
        "templates", "check", env={"PILOTSCALE_TEMPLATES_DIR": str(tmp_path / "templates")}
    )

    assert result.returncode == 2
    assert f"{bad}:2: undefined:" in result.stderr
    assert "3 template problem(s) found" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cli_says_ok_for_the_packaged_templates(tmp_path: Path) -> None:
    result = _run("templates", "check", env={"PILOTSCALE_DATA_DIR": str(tmp_path)})

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("templates OK")
