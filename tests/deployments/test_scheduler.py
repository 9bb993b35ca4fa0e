"""Scheduled runs, made by Prefect's own scheduler, end to end: nothing here is triggered
by hand except the department's start, so a broken scheduler service (SQLAlchemy 2.1
under Prefect 3.8.8: "Can't evaluate bulk DML statement", no scheduled run is ever
created) or a server that refuses the CLI's explicit nulls (fastapi 0.151-0.154: HTTP
422 on `prefect flow-run ls`) fails these tests.

- single machine: `pilotscale serve` starts its own server; the readiness check fires
  from its cron (every minute), completes and its decision is in the store; the
  dispatcher's interval schedule delivers a queued message to a loopback SMTP server;
- team: a real `prefect server start` on PostgreSQL, a process work pool and
  `prefect worker start`: the scheduled readiness check runs on the worker;
- Prefect's CLI verbs an operator uses exit 0 against both servers;
- the logs of the servers, `serve` and the worker hold no ERROR line and no traceback.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import Session, col, select

from pilotscale.core.messages import Message
from pilotscale.db import get_engine
from pilotscale.deployments.local_server import LocalServer
from pilotscale.engine.enqueue import enqueue
from pilotscale.models import Department, Program, Transition
from pilotscale.notifications.samples import sample
from pilotscale.plan.loader import load_plan
from tests.deployments.conftest import started_server
from tests.deployments.helpers import (
    background,
    child_env,
    pilotscale,
    prefect_database,
    wait_for,
    worker,
)
from tests.deployments.test_end_to_end import LEAD, PLAN, SMTP_ENV
from tests.notifications.receivers import SmtpServer, free_port

pytestmark = pytest.mark.slow

EVERY_MINUTE = "* * * * *"
# A run created at the top of a minute, picked up within the runner's or worker's poll
# and finished: two minutes is what the issue promises an operator, plus one minute for
# a run that fired while `start` was committing and so had nothing to decide.
SCHEDULED_WITHIN = 210

# What an operator types, in the order of docs/operations.md ("is my schedule running?").
OPERATOR_VERBS = (
    ("flow-run", "ls"),
    ("flow-run", "ls", "--state", "Scheduled"),
    ("deployment", "ls"),
    ("work-pool", "ls"),
)

# Lines that mean something went wrong in a server, a runner or a worker.
_ALARM = re.compile(r"\|\s*(ERROR|CRITICAL)\s*\||^ERROR[: ]|Traceback \(most recent call last\)")


def write_plan(path: Path, program: str) -> Path:
    """The end-to-end test's plan, its readiness check every minute."""
    text = PLAN.format(
        program=program,
        smtp_env=SMTP_ENV,
        lead=LEAD,
        sponsor="sam@example.test",
        champion="cat@example.test",
        champion2="dan@example.test",
        nobody="ned@example.test",
    ).replace(
        "  timezone: Europe/Madrid\n",
        f'  timezone: Europe/Madrid\n  schedules: {{readiness_check: "{EVERY_MINUTE}"}}\n',
    )
    path.write_text(text)
    return path


def alarms(*logs: Path) -> list[str]:
    """Every line of `logs` that reports an error or a traceback, with its file."""
    found = []
    for log in logs:
        if log.exists():
            text = log.read_text(errors="replace")
            found += [f"{log.name}: {line}" for line in text.splitlines() if _ALARM.search(line)]
    return found


async def _runs(api: str, deployment: str) -> list[FlowRun]:
    with temporary_settings({PREFECT_API_URL: api}):
        async with get_client() as client:
            found = await client.read_deployment_by_name(deployment)
            return await client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id])),
                limit=200,
                offset=0,
            )


def scheduled_and_completed(api: str, deployment: str) -> list[FlowRun]:
    """Runs of `deployment` that Prefect's scheduler created and that completed."""
    return [
        r
        for r in asyncio.run(_runs(api, deployment))
        if r.auto_scheduled and r.state_type is StateType.COMPLETED
    ]


def scheduled_pending(api: str, deployment: str) -> list[FlowRun]:
    return [
        r
        for r in asyncio.run(_runs(api, deployment))
        if r.auto_scheduled and r.state_type is StateType.SCHEDULED
    ]


def deciding_runs(
    api: str, deployment: str, store_url: str
) -> tuple[list[FlowRun], list[tuple[str, str, str]]] | None:
    """Completed scheduled runs of `deployment` and the transitions they made, once they
    made one. A run the scheduler fired while `start` was still committing sees nothing
    in flight and rightly decides nothing, so the first completed run is not the test."""
    ran = scheduled_and_completed(api, deployment)
    made = transitions_by_run(store_url, {str(r.id) for r in ran}) if ran else []
    return (ran, made) if made else None


def transitions_by_run(store_url: str, run_ids: set[str]) -> list[tuple[str, str, str]]:
    with Session(get_engine(store_url)) as session:
        rows = session.exec(
            select(Transition, Department.name)
            .join(Department, col(Department.id) == col(Transition.department_id))
            .where(col(Transition.run_id).in_(run_ids))
        ).all()
    return [(name, t.from_phase, t.to_phase) for t, name in rows]


def queue_for_dispatcher(store_url: str, plan: Path, marker: str) -> None:
    """A message in the outbox that no flow dispatches at its end: only the scheduled
    dispatcher can deliver it."""
    loaded = load_plan(plan)
    engine = get_engine(store_url)
    with Session(engine) as session, session.begin():
        program = session.exec(
            select(Program).where(col(Program.name) == loaded.plan.program.name)
        ).one()
        departments = {
            d.name: int(d.id or 0)
            for d in session.exec(
                select(Department).where(col(Department.program_id) == program.id)
            )
        }
        context = sample("gate_held")
        inserted = enqueue(
            session=session,
            plan=loaded.plan,
            program_id=int(program.id or 0),
            department_ids=departments,
            messages=[Message("gate_held", "lea.lead", marker, "hr", context)],
            now=_now(),
        )
    assert inserted == 1


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def operator_cli(api: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        env={**env, "PREFECT_API_URL": api, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_operator_verbs_work(api: str, env: dict[str, str], run: FlowRun) -> None:
    for verb in (*OPERATOR_VERBS, ("flow-run", "inspect", str(run.id))):
        result = operator_cli(api, env, *verb)
        assert result.returncode == 0, f"prefect {' '.join(verb)}:\n{result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr, result.stderr
    listed = operator_cli(api, env, "flow-run", "ls", "--limit", "50")
    assert "readiness-check" in listed.stdout or str(run.name) in listed.stdout, listed.stdout


# --------------------------------------------------------------------------- single machine


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def test_scheduled_readiness_check_runs_and_decides(tmp_path: Path, smtp: SmtpServer) -> None:
    """`pilotscale serve` with no server configured: Prefect's scheduler creates the
    readiness check's and the dispatcher's runs, serve runs them."""
    program = "sched-serve"
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    data = tmp_path / "data"
    with prefect_database() as database:
        env = child_env(
            PREFECT_HOME=str(tmp_path / "prefect-home"),
            PILOTSCALE_DATABASE_URL=store_url,
            PILOTSCALE_DATA_DIR=str(data),
            **{SMTP_ENV: smtp.url()},
            **database,
        )
        plan = write_plan(tmp_path / "plan.yaml", program)
        applied = pilotscale("apply", str(plan), env=env)
        assert applied.returncode == 0, applied.stderr
        log = tmp_path / "serve.log"
        web_port = free_port()
        command = [sys.executable, "-m", "pilotscale.cli", "serve", "--port", str(port)]
        command += ["--web-port", str(web_port)]
        with background(command, env=env, log=log):
            wait_for(
                lambda: "serving 5 deployments" in log.read_text(),
                timeout=150,
                what="serve to register its deployments",
            )
            assert f"readiness-check/{program}: cron '{EVERY_MINUTE}'" in log.read_text()
            # The UI of a server on another port than 4200 calls that port's API.
            ui = httpx.get(f"http://127.0.0.1:{port}/ui-settings", timeout=10).json()
            assert ui["api_url"] == api
            # serve also serves the web app: the board reads the same store.
            board = httpx.get(f"http://127.0.0.1:{web_port}/", timeout=10)
            assert board.status_code == 200, board.text[:2000]
            assert "Human Resources" in board.text, board.text[:2000]

            started = pilotscale("start", "hr", "--by", LEAD, env={**env, "PREFECT_API_URL": api})
            assert started.returncode == 0, started.stdout + started.stderr + log.read_text()

            ran, made = wait_for(
                lambda: deciding_runs(api, f"readiness-check/{program}", store_url),
                timeout=SCHEDULED_WITHIN,
                what="a scheduled readiness check to complete and decide",
            )
            assert made == [("hr", "piloting", "scaling")]
            assert scheduled_pending(api, f"readiness-check/{program}"), "no next run"

            marker = f"scheduler-test:{uuid.uuid4().hex}"
            queue_for_dispatcher(store_url, plan, marker)
            wait_for(
                lambda: [
                    m
                    for m in smtp.mails
                    if LEAD in m.rcpt_tos and "Action needed" in str(m.message["Subject"])
                ],
                timeout=SCHEDULED_WITHIN,
                what="the scheduled dispatcher to deliver the queued message",
            )
            dispatched = scheduled_and_completed(api, "dispatch-notifications/all-programs")
            assert dispatched, "delivered, but not by a scheduled dispatcher run"

            assert_operator_verbs_work(api, env, ran[0])

        assert alarms(log, data / "prefect-server.log") == [], log.read_text()[-6000:]


# --------------------------------------------------------------------------- team server


@pytest.fixture(scope="module")
def team_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server of its own, so the log scanned below holds only these runs."""
    with started_server(tmp_path_factory.mktemp("prefect-team")) as server:
        yield server


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_scheduled_readiness_check_runs_on_a_worker(
    team_server: LocalServer, store_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    program = "sched-team"
    pool = "sched-pool"
    env = child_env(
        PREFECT_API_URL=team_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-client"),
        PILOTSCALE_DATABASE_URL=store_url,
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        **{SMTP_ENV: smtp.url()},
    )
    plan = write_plan(tmp_path / "plan.yaml", program)
    assert pilotscale("apply", str(plan), env=env).returncode == 0
    deployed = pilotscale("deploy", "--work-pool", pool, env=env)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    log = tmp_path / "worker.log"
    with worker(pool, env=env, log=log):
        started = pilotscale("start", "hr", "--by", LEAD, env=env)
        assert started.returncode == 0, started.stdout + started.stderr + log.read_text()

        ran, made = wait_for(
            lambda: deciding_runs(team_server.api_url, f"readiness-check/{program}", store_url),
            timeout=SCHEDULED_WITHIN,
            what="a scheduled readiness check to complete and decide on the worker",
        )
        assert {r.work_pool_name for r in ran} == {pool}
        assert made == [("hr", "piloting", "scaling")]
        assert_operator_verbs_work(team_server.api_url, env, ran[0])

    assert team_server.log is not None
    assert alarms(team_server.log, log) == []


def test_the_log_scan_sees_what_broke_the_scheduler(tmp_path: Path) -> None:
    """The scan above would have caught the SQLAlchemy 2.1 failure as Prefect logs it."""
    log = tmp_path / "server.log"
    log.write_text(
        "12:00:00.000 | ERROR   | prefect.server.services.scheduler - Unexpected error in: "
        'InvalidRequestError("Can\'t evaluate bulk DML statement")\n'
        "Traceback (most recent call last):\n"
        "12:00:01.000 | INFO    | uvicorn - fine\n"
    )
    assert len(alarms(log)) == 2
