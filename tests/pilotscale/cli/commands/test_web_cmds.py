"""`pilotscale web`: refuses an empty store, serves the board on loopback, and stays out
of every other command's imports (real processes)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.deployments.helpers import child_env, pilotscale
from tests.plans import loaded, plan_dict


def _env(tmp_path: Path) -> dict[str, str]:
    return child_env(
        PILOTSCALE_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        COLUMNS="200",
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_web_needs_an_applied_plan(tmp_path: Path) -> None:
    done = pilotscale("web", "--port", str(_free_port()), env=_env(tmp_path))

    assert done.returncode == 3
    assert "no program in the store yet; apply a plan first" in done.stderr


def test_web_serves_the_board_on_loopback(tmp_path: Path) -> None:
    env = _env(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(loaded(plan_dict(1)).text)
    assert pilotscale("apply", str(plan), env=env).returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pilotscale.cli", "web", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.strip() == f"pilotscale web: http://127.0.0.1:{port}/ (Ctrl-C to stop)"
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, process.stderr
                time.sleep(0.2)
        assert page.status_code == 200
        assert "program board" in page.text
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_help_does_not_import_fastapi_or_uvicorn(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from pilotscale.cli.main import main\n"
        "sys.argv = ['pilotscale', '--help']\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        "found = sorted({m.split('.')[0] for m in sys.modules} & {'fastapi', 'uvicorn'})\n"
        "print(found, file=sys.stderr)\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        check=False,
        timeout=120,
    )

    assert ran.stderr.strip().splitlines()[-1] == "[]"
    assert "web" in ran.stdout
