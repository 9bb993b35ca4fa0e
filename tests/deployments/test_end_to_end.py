"""Team mode, end to end: a real Prefect server, a process work pool, a worker, real mail.

A lead applies a plan, deploys to a work pool, and a `prefect worker start` picks up
what the lead then triggers from the CLI: `pilotscale start hr` and `pilotscale check`
go through the API (run_deployment) and print the run's link; the department advances
in the store, the welcome kit and the advance notice arrive at an SMTP server, and the
check's Prefect event is on the server.

On PostgreSQL the automation of docs/operations.md is installed first: the advance
event makes it run rollout-program, which starts the next wave (sales) on its own.
On SQLite, asking the API for the approval flow that took an approver from the Prefect
UI finds no such deployment: approvals are recorded with `pilotscale approve` only.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, WorkerStatus
from prefect.deployments.flow_runs import arun_deployment
from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings
from sqlmodel import Session, col, select

from pilotscale.db import get_engine
from pilotscale.deployments.local_server import LocalServer
from pilotscale.models import Approval, Department, Notification
from tests.deployments.helpers import child_env, pilotscale, wait_for, worker
from tests.notifications.receivers import SmtpServer

pytestmark = pytest.mark.slow

SMTP_ENV = "PS_E2E_SMTP_URL"
LEAD = "lea.lead@example.test"
SPONSOR = "sam.sponsor@example.test"
CHAMPION = "cat.champion@example.test"
SALES_CHAMPION = "dan.champion@example.test"
AUTOMATION = (
    Path(__file__).resolve().parents[2] / "deployments/automations/next-wave-on-advance.yaml"
)
NOBODY = "ned.nobody@example.test"

PLAN = """\
version: 1
program:
  name: {program}
  title: E2E assistant
  sponsor: sam.sponsor
  lead: lea.lead
  timezone: Europe/Madrid
  budget: {{pilot_budget: 1000, approved_scale_budget: 5000, cost_per_user_month: 1}}
  kpis: [{{name: hours_saved, title: Hours saved}}]
  email_channel: email
channels:
  - {{name: email, kind: email, url: "env:{smtp_env}"}}
phases:
  - name: planned
  - name: piloting
    title: Piloting
    entry_actions: [onboard_champions]
    exit_gates: [support-model]
  - name: scaling
    title: Scaling
    exit_gates: [go-ahead]
  - name: operating
gates:
  - {{name: support-model, kind: support_coverage, title: Support owners named, owner: lead}}
  - name: go-ahead
    kind: approval
    title: Sponsor approves scaling
    owner: lead
    approvers: [sam.sponsor]
departments:
  - name: hr
    title: Human Resources
    headcount: 20
    wave: 1
    sponsor: sam.sponsor
    champions: [cat.champion]
    use_cases: [{{name: answers, title: Answers, kpis: [{{kpi: hours_saved, target: 10}}]}}]
    support: {{technical: lea.lead, adoption: lea.lead, content: lea.lead, governance: lea.lead}}
  - name: sales
    title: Sales
    headcount: 30
    wave: 2
    sponsor: sam.sponsor
    champions: [dan.champion]
    use_cases: [{{name: answers, title: Answers, kpis: [{{kpi: hours_saved, target: 10}}]}}]
    support: {{technical: lea.lead, adoption: lea.lead, content: lea.lead, governance: lea.lead}}
rollout:
  max_active: 2
  default_reaches: scaling
people:
  - {{id: lea.lead, name: Lea Lead, email: {lead}, roles: [lead]}}
  - {{id: sam.sponsor, name: Sam Sponsor, email: {sponsor}, roles: [sponsor, approver]}}
  - {{id: cat.champion, name: Cat Champion, email: {champion}, department: hr,
     segment: power, roles: [champion]}}
  - {{id: dan.champion, name: Dan Champion, email: {champion2}, department: sales,
     segment: power, roles: [champion]}}
  - {{id: ned.nobody, name: Ned Nobody, email: {nobody}}}
"""


def _mails_to(smtp: SmtpServer, address: str, subject_part: str) -> list[Any]:
    return [
        m for m in smtp.mails if address in m.rcpt_tos and subject_part in str(m.message["Subject"])
    ]


def _phase(store_url: str, name: str) -> str:
    with Session(get_engine(store_url)) as session:
        return session.exec(select(Department.phase).where(col(Department.name) == name)).one()


def _explain(result: Any, log: Path) -> str:
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    return f"stdout: {result.stdout}\nstderr: {result.stderr}\nworker log tail:\n{tail}"


def test_lead_triggers_runs_on_a_worker(
    prefect_server: LocalServer, smtp: SmtpServer, store_url: str, tmp_path: Path
) -> None:
    backend = "postgres" if store_url.startswith("postgresql") else "sqlite"
    program = f"e2e-{backend}"
    pool = f"pool-{backend}"
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        PLAN.format(
            program=program,
            smtp_env=SMTP_ENV,
            lead=LEAD,
            sponsor=SPONSOR,
            champion=CHAMPION,
            champion2=SALES_CHAMPION,
            nobody=NOBODY,
        )
    )
    env = child_env(
        PREFECT_API_URL=prefect_server.api_url,
        PREFECT_HOME=str(tmp_path / "prefect-client"),
        PILOTSCALE_DATABASE_URL=store_url,
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        **{SMTP_ENV: smtp.url()},
    )
    applied = pilotscale("apply", str(plan), env=env)
    assert applied.returncode == 0, applied.stderr

    deployed = pilotscale("deploy", "--work-pool", pool, env=env)

    assert deployed.returncode == 0, deployed.stderr
    assert f"work pool '{pool}' (process): created" in deployed.stdout
    assert f"readiness-check/{program}: cron '0 9 * * 1-5' (Europe/Madrid)" in deployed.stdout

    if backend == "postgres":
        automation = _automation_file(tmp_path, prefect_server, program)
        created = subprocess.run(
            [sys.executable, "-m", "prefect", "automation", "create", "--from-file", automation],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert created.returncode == 0, created.stdout + created.stderr

    log = tmp_path / "worker.log"
    with worker(pool, env=env, log=log):
        wait_for(
            lambda: asyncio.run(_worker_online(prefect_server, pool)),
            timeout=90,
            what="the worker to come online",
        )
        # --program: the server is shared with other tests' programs.
        started = pilotscale("start", "hr", "--by", LEAD, "--program", program, env=env)

        assert started.returncode == 0, _explain(started, log)
        link = f"start-department/{program}: flow run created, {prefect_server.url}/runs/flow-run/"
        assert link in started.stdout
        assert "start-department hr: started, piloting" in started.stdout
        assert _phase(store_url, "hr") == "piloting"
        wait_for(lambda: _mails_to(smtp, CHAMPION, "champion"), timeout=30, what="the welcome kit")

        if backend == "postgres":
            # A refusal is one line and exit code 2, answered before any run is created.
            refused = pilotscale("start", "sales", "--by", NOBODY, "--program", program, env=env)
            assert refused.returncode == 2, _explain(refused, log)
            assert refused.stderr.strip() == f"error: {NOBODY} may not start 'sales': only {LEAD}"

        checked = pilotscale("check", "--program", program, env=env)

        assert checked.returncode == 0, _explain(checked, log)
        assert f"readiness-check/{program}: flow run created" in checked.stdout
        assert "1 advanced" in checked.stdout
        assert _phase(store_url, "hr") == "scaling"
        for person in (SPONSOR, LEAD, CHAMPION):
            wait_for(
                lambda p=person: _mails_to(smtp, p, 'moved to "Scaling"'),  # type: ignore[misc]
                timeout=30,
                what=f"the advance notice to {person}",
            )
        advanced = asyncio.run(_events(prefect_server, "pilotscale.department.advanced", program))
        assert len(advanced) == 1
        assert advanced[0]["to_phase"] == "scaling"
        assert advanced[0]["related"] == [f"pilotscale.program.{program}"]

        if backend == "postgres":
            # The automation saw the advance and ran rollout-program: wave 2 started.
            wait_for(lambda: _phase(store_url, "sales") == "piloting", timeout=90, what="sales")
            wait_for(
                lambda: _mails_to(smtp, SALES_CHAMPION, "champion"),
                timeout=30,
                what="the sales champion's welcome kit",
            )
        else:
            _no_approval_through_the_api(prefect_server, store_url, program)
            assert _phase(store_url, "sales") == "planned"

    # Serving the same deployments on this server would take them off the pool: refused.
    served = pilotscale("serve", env=env)
    assert served.returncode == 4  # a conflict
    assert f"is deployed to work pool '{pool}' on this Prefect server" in served.stderr

    with Session(get_engine(store_url)) as session:
        unsent = session.exec(
            select(Notification.event, Notification.status).where(
                col(Notification.channel) == "email", col(Notification.status) != "sent"
            )
        ).all()
    assert unsent == []


async def _worker_online(server: LocalServer, pool: str) -> bool:
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        async with get_client() as client:
            # limit and offset explicit: this server refuses the client's null defaults.
            workers = await client.read_workers_for_work_pool(pool, limit=10, offset=0)
    return any(w.status == WorkerStatus.ONLINE for w in workers)


def _automation_file(tmp_path: Path, server: LocalServer, program: str) -> str:
    """The documented automation, for this program and its rollout-program deployment."""

    async def deployment_id() -> UUID:
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            async with get_client() as client:
                found = await client.read_deployment_by_name(f"rollout-program/{program}")
        return found.id

    text = AUTOMATION.read_text().replace("acme-ai-assistant", program)
    text = text.replace("ROLLOUT_DEPLOYMENT_ID", str(asyncio.run(deployment_id())))
    path = tmp_path / "automation.yaml"
    path.write_text(text)
    return str(path)


async def _events(server: LocalServer, name: str, program: str) -> list[dict[str, Any]]:
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        async with get_client() as client:
            page = await client.read_events(
                filter=EventFilter(
                    event=EventNameFilter(name=[name]),
                    resource=EventResourceFilter(id=[f"pilotscale.department.{program}.hr"]),
                ),
                limit=10,
            )
    return [
        {
            **e.payload,
            "related": [r.id for r in e.related if r.id.startswith("pilotscale.")],
        }
        for e in page.events
    ]


def _no_approval_through_the_api(server: LocalServer, store_url: str, program: str) -> None:
    """What once recorded an approval from the Prefect UI (an `await-approval` run
    resumed with `run_input={"approver": ...}`, which anyone reaching the API could
    send) is gone: no such deployment, nothing recorded."""
    with pytest.raises(ObjectNotFound):
        asyncio.run(_request_approval_in_ui(server, program))
    with Session(get_engine(store_url)) as session:
        assert session.exec(select(Approval)).all() == []


async def _request_approval_in_ui(server: LocalServer, program: str) -> FlowRun:
    with temporary_settings({PREFECT_API_URL: server.api_url}):
        async with get_client() as client:
            return await arun_deployment(
                f"await-approval/{program}",
                client=client,
                parameters={"department": "hr", "gate": "go-ahead"},
                timeout=0,
                as_subflow=False,
            )
