"""`pilotscale serve` and `deploy` refuse clearly what they cannot do (real processes)."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.deployments.helpers import child_env, pilotscale
from tests.plans import loaded, plan_dict


def _env(tmp_path: Path) -> dict[str, str]:
    return child_env(
        PILOTSCALE_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        COLUMNS="200",
    )


def _applied(tmp_path: Path) -> dict[str, str]:
    env = _env(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(loaded(plan_dict(1)).text)
    assert pilotscale("apply", str(plan), env=env).returncode == 0
    return env


def test_deploy_needs_a_prefect_server(tmp_path: Path) -> None:
    done = pilotscale("deploy", "--work-pool", "team", env=_applied(tmp_path))

    assert done.returncode == 2
    assert done.stderr.startswith("error: deploy needs a Prefect server: set PREFECT_API_URL")


def test_serve_needs_an_applied_plan(tmp_path: Path) -> None:
    done = pilotscale("serve", env=_env(tmp_path))

    assert done.returncode == 3
    assert "no program in the store yet; apply a plan first" in done.stderr


def test_serve_says_when_its_port_is_taken(tmp_path: Path) -> None:
    env = _applied(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]

        done = pilotscale("serve", "--port", str(port), env=env)

    assert done.returncode == 1  # a failure: Prefect's local server cannot start
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in done.stderr
