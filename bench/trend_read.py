"""What trend gates add to a readiness check's read: `read_verdicts` for N departments in
their last phase, with a metric gate only, and with a trend gate too (a sample a day over
its 6-week window, the samples read as rows rather than aggregated in SQL).

    .venv/bin/python -m bench.trend_read 2000
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.models import Department, MetricObservation
from pilotscale.plan.loader import LoadedPlan, plan_fingerprint
from pilotscale.plan.schema import Plan
from pilotscale.store.apply import apply_plan
from pilotscale.store.insert import insert_ignore
from pilotscale.store.snapshot import load_view
from tests.plans import plan_dict

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAYS = 42


def _plan(departments: int, *, trend: bool) -> dict[str, Any]:
    data = plan_dict(departments)
    for d in data["departments"]:
        d["initial_phase"] = "operating"
    if trend:
        data["gates"].append(
            {
                "name": "usage-trend",
                "kind": "trend",
                "title": "Weekly use is not declining",
                "owner": "support.adoption",
                "metric": "weekly_active_rate",
                "direction": "not declining",
                "window": "6w",
            }
        )
        data["phases"][-1]["exit_gates"] = ["weekly-active", "usage-trend"]
    return data


def _loaded(data: dict[str, Any]) -> LoadedPlan:
    # Validated directly: the YAML reader caps a plan at 100,000 values, and thousands of
    # departments with their people are more (a real plan lists only the key people).
    plan = Plan.model_validate(data)
    return LoadedPlan(plan, Path("bench-plan.yaml"), "", plan_fingerprint(plan))


def measure(departments: int, *, trend: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        engine = get_engine(f"sqlite:///{Path(folder) / 'store.db'}")
        with Session(engine) as session, session.begin():
            apply_plan(
                session=session,
                loaded=_loaded(_plan(departments, trend=trend)),
                now=NOW,
                actor="bench",
            )
        with Session(engine) as session, session.begin():
            rows = session.exec(select(Department.id, Department.program_id)).all()
            insert_ignore(
                session=session,
                model=MetricObservation,
                rows=[
                    {
                        "program_id": program_id,
                        "department_id": dept_id,
                        "metric": "weekly_active_rate",
                        "value": 0.5 + day / 1000,
                        "observed_at": NOW - timedelta(days=day, hours=1),
                    }
                    for dept_id, program_id in rows
                    for day in range(DAYS)
                ],
            )
        best = float("inf")
        for _ in range(3):
            with Session(engine) as session:
                view = load_view(session=session)
                started = time.perf_counter()
                verdicts = read_verdicts(session=session, view=view, now=NOW)
                best = min(best, time.perf_counter() - started)
            assert len(verdicts) == departments
        dispose_engines()
    return best


def main() -> None:
    departments = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    plain = measure(departments, trend=False)
    with_trend = measure(departments, trend=True)
    print(
        f"{departments} departments, {DAYS} daily samples each: read_verdicts "
        f"{plain:.2f} s with a metric gate, {with_trend:.2f} s with a trend gate too"
    )


if __name__ == "__main__":
    main()
