"""Fill a store for the benchmark: the plan through the real `apply_plan`, then the
facts (1,000 metric observations per department, attestations, approvals, training,
champion onboarding) with bulk writes. Deterministic for a given seed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from bench.bulk import execute_many, insert_rows
from bench.plan import (
    CHAMPIONS,
    DEPUTY,
    EXEC,
    FAILURE_LIMIT,
    LEAD,
    PEOPLE_PER_DEPARTMENT,
    DepartmentCase,
    cases,
    person_id,
    plan_dict,
    segment_of,
)
from pilotscale.plan.loader import LoadedPlan, plan_fingerprint
from pilotscale.plan.schema import AttestationGate, Plan
from pilotscale.store.apply import apply_plan

# The morning of the check every run simulates (a Monday), and when the plan was applied.
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
APPLIED_AT = NOW - timedelta(days=60)
OBSERVATIONS = 1000  # per department
METRICS = ("weekly_active_rate", "answer_rating", "time_saved_hours", "tickets_avoided")
SPACING = timedelta(minutes=50)  # 1,000 observations span about 35 days
DEFAULT_SEED = 20261123


@dataclass(frozen=True)
class Generated:
    departments: int
    cases: list[DepartmentCase]
    rows: dict[str, int]
    apply_seconds: float
    facts_seconds: float


def build_plan(
    departments: int, *, seed: int = DEFAULT_SEED
) -> tuple[LoadedPlan, list[DepartmentCase]]:
    found = cases(departments, seed=seed)
    # Validated, but not cross-checked as `pilotscale apply` would: the cross-checks take
    # minutes at this size (tests/bench checks that small generated plans pass them).
    plan = Plan.model_validate(plan_dict(found))
    loaded = LoadedPlan(
        plan=plan, path=Path("bench-plan.yaml"), text="", sha256=plan_fingerprint(plan)
    )
    return loaded, found


def generate(*, engine: Engine, departments: int, seed: int = DEFAULT_SEED) -> Generated:
    """Apply the plan and write every fact into the (migrated, empty) store at `engine`."""
    loaded, found = build_plan(departments, seed=seed)
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded, now=APPLIED_AT, actor="bench")
    apply_seconds = time.perf_counter() - started

    started = time.perf_counter()
    dept_ids, person_ids, program_id = _ids(engine=engine)
    plan = loaded.plan
    _set_states(engine=engine, found=found, ids=dept_ids)
    rows = {
        "metric_observation": insert_rows(
            engine=engine,
            table="metric_observation",
            columns=(
                "program_id",
                "department_id",
                "metric",
                "value",
                "observed_at",
                "segment",
                "person_key",
                "source",
                "imported_at",
            ),
            rows=_observations(found, dept_ids, program_id, seed),
        ),
        "attestation": insert_rows(
            engine=engine,
            table="attestation",
            columns=(
                "department_id",
                "phase",
                "gate",
                "attested_by",
                "evidence",
                "attested_at",
                "expires_at",
            ),
            rows=_attestations(found, dept_ids, plan),
        ),
        "approval": insert_rows(
            engine=engine,
            table="approval",
            columns=(
                "department_id",
                "phase",
                "gate",
                "approver_key",
                "comment",
                "approved_at",
                "phase_entered_at",
                "os_user",
                "via",
            ),
            rows=_approvals(found, dept_ids),
        ),
        "training_assignment": insert_rows(
            engine=engine,
            table="training_assignment",
            columns=(
                "department_id",
                "person_id",
                "segment",
                "module_id",
                "assigned_at",
                "due_at",
                "completed_at",
            ),
            rows=_training(found, dept_ids, person_ids, seed),
        ),
        "champion_onboarding": insert_rows(
            engine=engine,
            table="champion_onboarding",
            columns=("department_id", "person_id", "created_at", "welcomed_at", "acknowledged_at"),
            rows=_onboarding(found, dept_ids, person_ids),
        ),
    }
    _analyze(engine=engine)
    return Generated(departments, found, rows, apply_seconds, time.perf_counter() - started)


# --------------------------------------------------------------------------- states


def entered_at(case: DepartmentCase) -> datetime:
    # Waiting departments entered their phase five days ago: their soak is not over.
    return NOW - (timedelta(days=5) if case.profile == "waiting" else timedelta(days=30))


def _set_states(*, engine: Engine, found: list[DepartmentCase], ids: dict[str, int]) -> None:
    yesterday = (NOW - timedelta(days=1)).date().isoformat()
    params = []
    for case in found:
        repeat = case.profile == "repeat"
        params.append(
            (
                entered_at(case),
                FAILURE_LIMIT - 1 if repeat else 0,
                yesterday if repeat else None,
                "paused" if case.paused else "active",
                ids[case.name],
            )
        )
    execute_many(
        engine=engine,
        statement=(
            "UPDATE department SET phase_entered_at = ?, consecutive_failures = ?, "
            "last_check_key = ?, status = ? WHERE id = ?"
        ),
        params=params,
    )


def _ids(*, engine: Engine) -> tuple[dict[str, int], dict[str, int], int]:
    with engine.connect() as connection:
        program_id = int(connection.execute(text("SELECT id FROM program")).scalar_one())
        rows = connection.execute(text("SELECT name, id FROM department")).all()
        departments = {str(name): int(i) for name, i in rows}
        rows = connection.execute(text('SELECT "key", id FROM person')).all()
        people = {str(key): int(i) for key, i in rows}
    return departments, people, program_id


# --------------------------------------------------------------------------- facts


def _observations(
    found: list[DepartmentCase], ids: dict[str, int], program_id: int, seed: int
) -> Iterator[tuple[Any, ...]]:
    for case in found:
        rng = random.Random(f"{seed}:{case.name}:metrics")
        good = case.profile not in ("lagging", "repeat")
        # Stale departments have data, but none inside any gate's window.
        shift = timedelta(days=40) if case.profile == "stale" else timedelta(0)
        offset = timedelta(seconds=case.index % 3000)
        department_id = ids[case.name]
        for i in range(OBSERVATIONS):
            metric = METRICS[i % len(METRICS)]
            yield (
                program_id,
                department_id,
                metric,
                _value(metric, good, rng),
                NOW - offset - shift - SPACING * i,
                "",
                "",
                "import",
                APPLIED_AT,
            )


def _value(metric: str, good: bool, rng: random.Random) -> float:
    low, high = {
        ("weekly_active_rate", True): (0.62, 0.9),
        ("weekly_active_rate", False): (0.2, 0.45),
        ("answer_rating", True): (4.1, 4.9),
        ("answer_rating", False): (2.4, 3.6),
        ("time_saved_hours", True): (6.0, 14.0),
        ("time_saved_hours", False): (0.0, 3.0),
        ("tickets_avoided", True): (1.0, 6.0),
        ("tickets_avoided", False): (0.0, 1.0),
    }[(metric, good)]
    return round(rng.uniform(low, high), 4)


def _attestations(
    found: list[DepartmentCase], ids: dict[str, int], plan: Plan
) -> Iterator[tuple[Any, ...]]:
    attestation_gates = {g.name for g in plan.gates if isinstance(g, AttestationGate)}
    for case in found:
        gates = [g for g in plan.phase(case.phase).exit_gates if g in attestation_gates]
        if not gates:
            continue
        entered = entered_at(case)
        # An attestation from an earlier visit to the phase: it must not count.
        yield (ids[case.name], case.phase, gates[0], LEAD, "old", entered - timedelta(days=9), None)
        if case.profile == "waiting":
            continue
        for gate in gates:
            yield (
                ids[case.name],
                case.phase,
                gate,
                person_id(case.name, 0),
                f"https://evidence.example/{case.name}/{gate}",
                NOW - timedelta(days=3),
                None,
            )


APPROVERS = {
    "sponsor-commitment": [EXEC],
    "pilot-go-ahead": [LEAD],
    "executive-go-ahead": [EXEC, DEPUTY],
}
APPROVAL_PHASE = {
    "preparing": "sponsor-commitment",
    "piloting": "pilot-go-ahead",
    "scaling": "executive-go-ahead",
}


def _approvals(found: list[DepartmentCase], ids: dict[str, int]) -> Iterator[tuple[Any, ...]]:
    for case in found:
        gate = APPROVAL_PHASE.get(case.phase)
        if gate is None:
            continue
        approvers = APPROVERS[gate]
        if case.profile == "waiting":
            approvers = approvers[:-1]  # one approval short (none when one is required)
        for approver in approvers:
            yield (
                ids[case.name],
                case.phase,
                gate,
                approver,
                "go",
                NOW - timedelta(days=2),
                entered_at(case),
                "bench",
                "cli",
            )


def _training(
    found: list[DepartmentCase], dept_ids: dict[str, int], people: dict[str, int], seed: int
) -> Iterator[tuple[Any, ...]]:
    for case in found:
        if case.phase not in ("piloting", "scaling", "operating"):
            continue
        segments = {"power"} if case.phase == "piloting" else {"power", "casual"}
        share = 0.4 if case.profile in ("lagging", "repeat") else 0.9
        rng = random.Random(f"{seed}:{case.name}:training")
        entered = entered_at(case)
        for n in range(PEOPLE_PER_DEPARTMENT):
            segment = segment_of(n)
            if segment not in segments:
                continue
            module, due = ("full-course", 14) if segment == "power" else ("quick-start", 7)
            done = rng.random() < share
            yield (
                dept_ids[case.name],
                people[person_id(case.name, n)],
                segment,
                module,
                entered,
                entered + timedelta(days=due),
                entered + timedelta(days=3) if done else None,
            )


def _onboarding(
    found: list[DepartmentCase], dept_ids: dict[str, int], people: dict[str, int]
) -> Iterator[tuple[Any, ...]]:
    for case in found:
        if case.phase == "planned":
            continue
        acknowledged = 2 if case.profile in ("lagging", "repeat") else CHAMPIONS
        welcomed = entered_at(case) - timedelta(days=1)
        for n in range(1, CHAMPIONS + 1):
            yield (
                dept_ids[case.name],
                people[person_id(case.name, n)],
                welcomed,
                welcomed,
                welcomed + timedelta(hours=4) if n <= acknowledged else None,
            )


def _analyze(*, engine: Engine) -> None:
    """Fresh planner statistics, as a store that has been in use for a while would have."""
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
        if engine.dialect.name == "sqlite":
            # Everything in the main file, so that a copy of the store is complete.
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        connection.commit()
