"""The deployment definitions: one list, schedules from the plan, a limit on every one."""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
from pathlib import Path

import yaml
from prefect import flow_runs
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect.events.schemas.automations import AutomationCore, EventTrigger
from prefect.input import RunInput
from sqlalchemy import Engine

from pilotscale.deployments.definitions import (
    ProgramSchedules,
    all_specs,
    load_program_schedules,
)
from pilotscale.plan.loader import load_plan
from tests.pilotscale.engine.helpers import apply
from tests.plans import PROGRAM, plan_dict

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "acme-ai-assistant.yaml"
ENQUEUE, CANCEL_NEW = ConcurrencyLimitStrategy.ENQUEUE, ConcurrencyLimitStrategy.CANCEL_NEW


def test_every_deployment_of_a_program_and_the_shared_dispatcher() -> None:
    schedules = ProgramSchedules.from_plan(load_plan(EXAMPLE).plan)

    specs = {s.full_name: s for s in all_specs([schedules])}

    program = "acme-ai-assistant"
    assert set(specs) == {
        "dispatch-notifications/all-programs",
        f"readiness-check/{program}",
        f"weekly-digest/{program}",
        f"start-department/{program}",
        f"rollout-program/{program}",
    }
    readiness = specs[f"readiness-check/{program}"]
    assert (readiness.cron, readiness.timezone) == ("0 9 * * 1", "Europe/Madrid")
    digest = specs[f"weekly-digest/{program}"]
    assert (digest.cron, digest.timezone) == ("0 8 * * 1", "Europe/Madrid")
    assert specs["dispatch-notifications/all-programs"].interval is not None
    assert specs["dispatch-notifications/all-programs"].interval.total_seconds() == 60
    assert {n: s.collision for n, s in specs.items()} == {
        f"readiness-check/{program}": CANCEL_NEW,
        f"weekly-digest/{program}": CANCEL_NEW,
        "dispatch-notifications/all-programs": CANCEL_NEW,
        f"start-department/{program}": ENQUEUE,
        f"rollout-program/{program}": ENQUEUE,
    }
    on_program = [s for n, s in specs.items() if not n.startswith("dispatch")]
    assert {str(s.parameters) for s in on_program} == {str({"program": program})}


def test_without_schedules_in_the_plan_the_check_runs_on_weekday_mornings(
    engine: Engine,
) -> None:
    apply(engine, plan_dict(1))  # plan_dict sets no schedules

    [schedules] = load_program_schedules(engine=engine)

    assert schedules == ProgramSchedules(PROGRAM, "UTC", "0 9 * * 1-5", "0 8 * * 1")


def test_a_store_with_two_programs_gets_deployments_for_each(engine: Engine) -> None:
    apply(engine, plan_dict(1))
    other = plan_dict(1)
    other["program"]["name"] = "second-program"
    other["program"]["timezone"] = "Asia/Tokyo"
    apply(engine, other)

    programs = load_program_schedules(engine=engine)
    names = [s.full_name for s in all_specs(programs)]

    assert [p.program for p in programs] == ["second-program", PROGRAM]
    assert names.count("dispatch-notifications/all-programs") == 1
    assert "readiness-check/second-program" in names
    assert f"readiness-check/{PROGRAM}" in names


def test_the_prefect_deployments_run_the_flows_by_module_path() -> None:
    specs = all_specs([ProgramSchedules("acme", "Europe/Madrid", "30 8 * * 1-5", "0 7 * * 5")])

    for spec in specs:
        deployment = asyncio.run(spec.to_runner(work_pool="pool"))
        module, _, name = (deployment.entrypoint or "").rpartition(".")
        # What a worker on another machine does: import the module, find the same flow.
        assert getattr(importlib.import_module(module), name) is spec.flow
        assert deployment.work_pool_name == "pool"
        assert deployment.paused is False
        assert deployment.concurrency_limit == 1
        assert deployment.concurrency_options is not None
        assert deployment.concurrency_options.collision_strategy == spec.collision
        assert deployment.parameters == spec.parameters
        assert "pilotscale" in (deployment.tags or [])
    readiness = asyncio.run(specs[1].to_runner())
    [schedule] = readiness.schedules or []
    dumped = schedule.schedule.model_dump()
    assert (dumped["cron"], dumped["timezone"]) == ("30 8 * * 1-5", "Europe/Madrid")


def test_the_documented_automation_is_one_prefect_accepts() -> None:
    path = REPO / "deployments" / "automations" / "next-wave-on-advance.yaml"
    text = path.read_text().replace("ROLLOUT_DEPLOYMENT_ID", "6f1d3c4e-9a57-4b8e-8f0c-000000000001")

    automation = AutomationCore.model_validate(yaml.safe_load(text))

    assert isinstance(automation.trigger, EventTrigger)
    assert automation.trigger.expect == {"pilotscale.department.advanced"}
    assert [a.type for a in automation.actions] == ["run-deployment"]
    assert (REPO / "docs" / "operations.md").read_text().count("next-wave-on-advance.yaml") >= 1


def test_no_deployment_or_flow_takes_an_approver_through_prefect() -> None:
    """Prefect's open-source server has no user identity: an approver typed into its UI,
    or sent to its API (`resume_flow_run(id, run_input={"approver": ...})`), would be
    anyone's claim. No deployment waits for one, and no flow, task or deployment module
    can pause a run for input: approvals are recorded by `pilotscale approve` only."""
    specs = all_specs([ProgramSchedules("acme")])

    assert "await-approval" not in {s.flow_name for s in specs}
    for spec in specs:
        assert not {"approver", "gate"} & set(spec.flow.parameters.properties), spec.full_name
    waits_for_input = {
        flow_runs.pause_flow_run,
        flow_runs.apause_flow_run,
        flow_runs.suspend_flow_run,
        flow_runs.asuspend_flow_run,
    }
    for package in ("pilotscale.flows", "pilotscale.tasks", "pilotscale.deployments"):
        for found in pkgutil.iter_modules(importlib.import_module(package).__path__):
            module = importlib.import_module(f"{package}.{found.name}")
            pausing = [
                name
                for name, value in vars(module).items()
                if any(value is f for f in waits_for_input)
                or (isinstance(value, type) and issubclass(value, RunInput))
            ]
            assert pausing == [], module.__name__
