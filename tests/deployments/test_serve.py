"""`pilotscale serve` on one machine: it starts its own Prefect server (none is configured),
registers every deployment with the plan's schedules, runs what is triggered, follows a
re-applied plan, and stops cleanly, server included, on SIGINT."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings

from pilotscale.deployments.local_server import port_free
from tests.deployments.helpers import (
    REPO,
    child_env,
    pilotscale,
    prefect_database,
    stop_group,
    wait_for,
)
from tests.notifications.receivers import free_port
from tests.plans import LEAD, PROGRAM, plan_dict

pytestmark = pytest.mark.slow


def _plan_file(path: Path, readiness: str) -> Path:
    data = plan_dict(2)
    data["program"]["timezone"] = "America/New_York"
    data["program"]["schedules"] = {"readiness_check": readiness, "weekly_digest": "0 8 * * 1"}
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


async def _deployments(api: str) -> dict[str, Any]:
    """Every deployment the server holds, by `<flow>/<name>`."""
    with temporary_settings({PREFECT_API_URL: api}):
        async with get_client() as client:
            found = {}
            for d in await client.read_deployments():
                name = f"{(await client.read_flow(d.flow_id)).name}/{d.name}"
                found[name] = {
                    "schedules": [s.schedule.model_dump(exclude_none=True) for s in d.schedules],
                    "limit": d.global_concurrency_limit.limit
                    if d.global_concurrency_limit
                    else None,
                    "collision": d.concurrency_options.collision_strategy.value
                    if d.concurrency_options
                    else None,
                    "paused": d.paused,
                    "parameters": d.parameters,
                }
            return found


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """No PREFECT_API_URL: serve starts its own server (whose database is PostgreSQL,
    when it is up, only because that server starts faster)."""
    with prefect_database() as database:
        yield child_env(
            PREFECT_HOME=str(tmp_path / "prefect-home"),
            PILOTSCALE_DATABASE_URL=f"sqlite:///{tmp_path / 'store.db'}",
            PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
            **database,
        )


def test_serve_registers_runs_follows_the_plan_and_stops_on_sigint(
    tmp_path: Path, env: dict[str, str]
) -> None:
    port = free_port()
    plan = _plan_file(tmp_path / "plan.yaml", "15 7 * * 1-5")
    assert pilotscale("apply", str(plan), env=env).returncode == 0
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "pilotscale.cli", "serve", "--port", str(port)]
    with log.open("ab") as output:
        serve = subprocess.Popen(
            [*command, "--reload-every", "1"],
            env=env,
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(
            lambda: "serving 5 deployments" in log.read_text() or serve.poll() is not None,
            timeout=150,
            what="serve to register its deployments",
        )
        text = log.read_text()
        assert serve.poll() is None, text
        assert f"Prefect UI: http://127.0.0.1:{port}" in text
        assert (
            f"readiness-check/{PROGRAM}: cron '15 7 * * 1-5' (America/New_York), next run " in text
        )
        assert "dispatch-notifications/all-programs: every 60s, next run " in text

        registered = asyncio.run(_deployments(api))

        readiness = registered[f"readiness-check/{PROGRAM}"]
        assert readiness["schedules"] == [
            {"cron": "15 7 * * 1-5", "timezone": "America/New_York", "day_or": True}
        ]
        assert readiness["parameters"] == {"program": PROGRAM}
        assert registered[f"weekly-digest/{PROGRAM}"]["schedules"][0]["cron"] == "0 8 * * 1"
        dispatch = registered["dispatch-notifications/all-programs"]["schedules"]
        assert [s["interval"] for s in dispatch] == [timedelta(minutes=1)]
        assert registered[f"start-department/{PROGRAM}"]["schedules"] == []
        # Every deployment the server holds: none waits for an approver (no await-approval).
        assert {n: (d["limit"], d["collision"]) for n, d in registered.items()} == {
            f"readiness-check/{PROGRAM}": (1, "CANCEL_NEW"),
            f"weekly-digest/{PROGRAM}": (1, "CANCEL_NEW"),
            "dispatch-notifications/all-programs": (1, "CANCEL_NEW"),
            f"start-department/{PROGRAM}": (1, "ENQUEUE"),
            f"rollout-program/{PROGRAM}": (1, "ENQUEUE"),
        }
        assert not any(d["paused"] for d in registered.values())

        # A lead triggers a run from another terminal: the served deployment runs it.
        triggered = pilotscale(
            "rollout", "--by", f"{LEAD}@example.com", env={**env, "PREFECT_API_URL": api}
        )
        assert triggered.returncode == 0, triggered.stderr + log.read_text()[-3000:]
        assert f"rollout-program/{PROGRAM}: flow run created" in triggered.stdout
        assert "rollout-program: started d001, d002; 0 waiting" in triggered.stdout

        # The lead moves the readiness check in the plan and re-applies it.
        _plan_file(plan, "45 6 * * 2")
        assert pilotscale("apply", str(plan), env=env).returncode == 0
        wait_for(
            lambda: f"updated readiness-check/{PROGRAM}: cron '45 6 * * 2'" in log.read_text(),
            timeout=30,
            what="serve to pick up the new schedule",
        )
        moved = asyncio.run(_deployments(api))[f"readiness-check/{PROGRAM}"]["schedules"]
        assert moved == [{"cron": "45 6 * * 2", "timezone": "America/New_York", "day_or": True}]

        serve.send_signal(signal.SIGINT)
        code = serve.wait(timeout=60)
    finally:
        stop_group(serve)

    text = log.read_text()
    assert code == 0, text
    assert text.rstrip().endswith("local Prefect server stopped"), text[-2000:]
    assert "stopped\n" in text
    assert "Traceback" not in text
    assert port_free("127.0.0.1", port)


def _descendants(pid: int) -> list[str]:
    """Command lines of every process below `pid`."""
    found, parents = [], {pid}
    for _ in range(4):  # serve → flow run, and what a flow run starts
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2 :].split()[1]) in parents:
                children.append(int(entry.name))
                found.append(cmdline)
        parents = set(children)
    return found


async def _trigger(api: str, name: str) -> Any:
    from prefect.deployments import run_deployment

    with temporary_settings({PREFECT_API_URL: api}):
        return await run_deployment(name, timeout=0)


def test_ctrl_c_while_a_run_starts_cancels_it_without_a_traceback(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """A terminal's Ctrl-C signals every process of its foreground group. The flow runs
    serve starts must not get it (they died mid-import with a KeyboardInterrupt
    traceback): serve alone gets it and cancels them in order."""
    port = free_port()
    plan = _plan_file(tmp_path / "plan.yaml", "15 7 * * 1-5")
    assert pilotscale("apply", str(plan), env=env).returncode == 0
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "pilotscale.cli", "serve", "--port", str(port), "--no-web"]
    with log.open("ab") as output:
        serve = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,  # the terminal's foreground group, here: serve's own
        )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(
            lambda: "serving 5 deployments" in log.read_text() or serve.poll() is not None,
            timeout=150,
            what="serve to register its deployments",
        )
        asyncio.run(_trigger(api, f"readiness-check/{PROGRAM}"))
        wait_for(
            lambda: any("prefect.engine" in c for c in _descendants(serve.pid)),
            timeout=60,
            every=0.05,
            what="serve to start the flow run's process",
        )
        os.killpg(serve.pid, signal.SIGINT)  # what Ctrl-C does
        code = serve.wait(timeout=90)
    finally:
        stop_group(serve)

    text = log.read_text()
    assert code == 0, text
    assert "Traceback" not in text, text
    assert "KeyboardInterrupt" not in text, text
    assert text.rstrip().endswith("local Prefect server stopped"), text[-2000:]
