"""A small plan for the metrics tests, a store with its departments piloting, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from pilotscale.engine.start import start_department
from pilotscale.models import MetricObservation
from pilotscale.plan.loader import load_plan_text
from pilotscale.plan.schema import Plan
from pilotscale.store.apply import apply_plan
from tests.cli import run_cli

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday

PLAN = """\
version: 1
program:
  name: metrics-test
  title: Metrics test
  sponsor: ines
  lead: leo
  timezone: Europe/Madrid
  budget: {currency: EUR, pilot_budget: 10000, approved_scale_budget: 50000,
           cost_per_user_month: 10, usage_cost_month: 500, support_cost_month: 250,
           training_cost_per_user: 20}
  kpis:
    - {name: time_saved_hours, title: Time saved, unit: hours, target: 1000}
    - {name: weekly_active_rate, title: Weekly active rate, unit: fraction, target: 0.6}
phases:
  - name: planned
  - name: piloting
    entry_actions: [onboard_champions]
    exit_gates: [weekly-active, budget-fits]
  - name: operating
gates:
  - {name: weekly-active, kind: metric, title: People use it every week, owner: leo,
     metric: weekly_active_rate, aggregate: last, window: 7d, threshold: 0.5}
  - {name: budget-fits, kind: metric, title: Full rollout fits the budget, owner: leo,
     metric: budget_projection_ratio, aggregate: last, window: 1d, op: "<=", threshold: 1.0}
metrics:
  - {name: weekly_active_rate, unit: fraction}
  - {name: time_saved_hours, unit: hours}
  - {name: licensed_users}
  - {name: activated_users}
  - {name: weekly_active_users}
  - {name: habitual_users}
  - {name: budget_projection_ratio}
rollout: {max_active: 2}
departments:
  - name: finance
    title: Finance
    headcount: 100
    wave: 0
    sponsor: ines
    champions: [fran]
    use_cases:
      - {name: closing, title: Month-end closing, kpis: [{kpi: time_saved_hours, target: 300}]}
    training:
      power: [{id: full-course, title: Full course}]
      casual: [{id: quick-start, title: Quick start}]
      self_service: [{id: library, title: Library}]
  - name: legal
    title: Legal
    headcount: 20
    wave: 0
    sponsor: ines
    champions: [lola]
people:
  - {id: ines, name: Ines Sponsor, email: ines@example.com, roles: [sponsor, approver]}
  - {id: leo, name: Leo Lead, email: leo@example.com, roles: [lead, approver]}
  - {id: fran, name: Fran, email: fran@example.com, department: finance, segment: power,
     roles: [champion]}
  - {id: pat, name: Pat, email: Pat.Casual@example.com, department: finance, segment: casual}
  - {id: lola, name: Lola, email: lola@example.com, department: legal, roles: [champion]}
"""


def plan(text: str = PLAN) -> Plan:
    return load_plan_text(text, "plan.yaml").plan


def piloting(engine: Engine, text: str = PLAN, *, now: datetime = NOW) -> None:
    """Apply the plan and start both departments: they are piloting, gates evaluated."""
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=load_plan_text(text, "plan.yaml"), now=now, actor="leo")
    for name in ("finance", "legal"):
        start_department(engine=engine, department=name, now=now, actor="leo")


def observations(engine: Engine, metric: str | None = None) -> int:
    with Session(engine) as session:
        query = select(func.count()).select_from(MetricObservation)
        if metric:
            query = query.where(MetricObservation.metric == metric)  # type: ignore[arg-type]
        return session.exec(query).one()


def run(*args: str, cwd: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a real process on a real store."""
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
        "PILOTSCALE_DATABASE_URL": database_url,
        "PILOTSCALE_DATA_DIR": str(cwd / "data"),
    }
    env.pop("PILOTSCALE_DEBUG", None)
    return run_cli(*args, env=env, cwd=cwd)
