"""The lower bound: the same decisions as pilotscale's readiness check, by the leanest
script we could write — raw SQL through the DB-API (one aggregate query per kind of
fact, no ORM objects, no Prefect) and the pure gate evaluation of `pilotscale.core`.

It reads only the parts of the stored plan that gates need (program, phases, gates and
each department's headcount, champions and support owners), not the people.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter
from sqlalchemy import Engine

from bench.bulk import db_value
from pilotscale.core.decisions import Decision, DepartmentSnapshot, decide, gates_for
from pilotscale.core.facts import (
    ApprovalFact,
    AttestationFact,
    ChampionFact,
    DepartmentFacts,
    MetricAggregate,
    TrainingFact,
)
from pilotscale.core.phases import DeptState, PhaseMachine
from pilotscale.core.states import Status
from pilotscale.plan.schema import Gate, MetricGate, Phase, Plan, Program

_GATES: TypeAdapter[list[Any]] = TypeAdapter(list[Gate])


def lower_bound(*, engine: Engine, now: datetime) -> list[Decision]:
    """Decide for every department of the (only) program in the store at `engine`."""
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()

        def rows(sql: str, *params: Any) -> Sequence[Any]:
            if dialect == "postgresql":
                sql = sql.replace("?", "%s")
            cursor.execute(sql, tuple(db_value(p, dialect) for p in params))
            return cursor.fetchall()

        return decide_all(rows, now).decisions
    finally:
        raw.rollback()
        raw.close()


@dataclass
class Decided:
    """What the lower bound read and decided: its writing twin (`bench.lower_bound_writes`)
    writes from this, without reading any of it again."""

    program_id: int
    plan_json: str
    check_key: str
    decisions: list[Decision]
    # Department id -> (name, version, phase_entered_at, consecutive_failures, last_check_key)
    departments: dict[int, tuple[str, int, datetime, int, str | None]]
    facts: dict[int, DepartmentFacts]  # of the evaluated departments


def decide_all(
    rows: Any, now: datetime, owners: Callable[[str], Mapping[str, str]] | None = None
) -> Decided:
    """Decide with `rows(sql, *params)`, a DB-API query with '?' marks. `owners`: the
    owners' names per gate of a department, which only the wording of reasons needs
    (the writing twin stores reasons; deciding alone does without the people)."""
    ((program_id, plan_json),) = rows("SELECT id, plan_json FROM program")
    plan, specs = _lean_plan(plan_json)
    machine = PhaseMachine([p.name for p in plan.phases])
    zone = ZoneInfo(plan.program.timezone)
    key = now.astimezone(zone).date().isoformat()
    at = _at

    departments = rows(
        "SELECT id, name, phase, status, phase_entered_at, consecutive_failures, last_check_key, "
        "version FROM department WHERE program_id = ? AND removed_at IS NULL ORDER BY wave, name",
        program_id,
    )
    states = {d[0]: DeptState(d[2], Status(d[3])) for d in departments}
    evaluated = {i for i, state in states.items() if machine.is_evaluated(state)}
    in_program = "SELECT id FROM department WHERE program_id = ?"

    # Metrics: every window of every metric gate in one scan, one FILTER column per window.
    metric_gates = {
        (g.metric, g.window, g.aggregate)
        for phase in {s.phase for i, s in states.items() if i in evaluated}
        for g in gates_for(plan, phase)
        if isinstance(g, MetricGate)
    }
    windows = sorted({w for _, w, _ in metric_gates})
    names = sorted({m for m, _, _ in metric_gates})
    metrics: dict[int, dict[tuple[str, int], MetricAggregate]] = defaultdict(dict)
    if windows:
        columns = ", ".join(
            "count(*) FILTER (WHERE observed_at > ?), sum(value) FILTER (WHERE observed_at > ?), "
            "min(value) FILTER (WHERE observed_at > ?), max(value) FILTER (WHERE observed_at > ?)"
            for _ in windows
        )
        marks = ", ".join("?" for _ in names)
        params = [now - w for w in windows for _ in range(4)]
        found = rows(
            f"SELECT department_id, metric, {columns} FROM metric_observation "
            f"WHERE department_id IN ({in_program}) AND metric IN ({marks}) "
            "AND observed_at > ? AND observed_at <= ? GROUP BY department_id, metric",
            *params,
            program_id,
            *names,
            now - windows[-1],
            now,
        )
        last = _last_values(rows, metric_gates, now, program_id, at)
        for row in found:
            dept_id, metric = row[0], row[1]
            for n, window in enumerate(windows):
                count, total, low, high = row[2 + 4 * n : 6 + 4 * n]
                if count:
                    seconds = int(window.total_seconds())
                    metrics[dept_id][(metric, seconds)] = MetricAggregate(
                        count=int(count),
                        total=float(total or 0.0),
                        minimum=low,
                        maximum=high,
                        last_value=last.get((dept_id, metric, seconds)),
                    )

    attestations: dict[int, dict[str, AttestationFact]] = defaultdict(dict)
    for dept_id, gate, by, evidence, attested_at, expires in rows(
        "SELECT a.department_id, a.gate, a.attested_by, a.evidence, a.attested_at, a.expires_at "
        "FROM attestation a JOIN department d ON d.id = a.department_id "
        "WHERE d.program_id = ? AND a.phase = d.phase AND a.attested_at >= d.phase_entered_at "
        "AND a.attested_at <= ? ORDER BY a.attested_at, a.id",
        program_id,
        now,
    ):
        attestations[dept_id][gate] = AttestationFact(by, evidence, at(attested_at), at(expires))

    approvals: dict[int, dict[str, list[ApprovalFact]]] = defaultdict(lambda: defaultdict(list))
    for dept_id, gate, by, approved_at, comment in rows(
        "SELECT a.department_id, a.gate, a.approver_key, a.approved_at, a.comment "
        "FROM approval a JOIN department d ON d.id = a.department_id "
        "WHERE d.program_id = ? AND a.phase = d.phase "
        "AND a.phase_entered_at = d.phase_entered_at AND a.approved_at <= ? "
        "ORDER BY a.approved_at, a.id",
        program_id,
        now,
    ):
        approvals[dept_id][gate].append(ApprovalFact(by, at(approved_at), comment))

    training: dict[int, dict[str, TrainingFact]] = defaultdict(dict)
    for dept_id, segment, assigned, completed in rows(
        "SELECT department_id, segment, count(*), count(completed_at) "
        "FILTER (WHERE completed_at <= ?) FROM training_assignment "
        f"WHERE department_id IN ({in_program}) AND assigned_at <= ? "
        "GROUP BY department_id, segment",
        now,
        program_id,
        now,
    ):
        training[dept_id][segment] = TrainingFact(int(assigned), int(completed))

    champions = {
        dept_id: (int(welcomed), int(acked))
        for dept_id, welcomed, acked in rows(
            "SELECT department_id, count(welcomed_at) FILTER (WHERE welcomed_at <= ?), "
            "count(acknowledged_at) FILTER (WHERE acknowledged_at <= ?) "
            f"FROM champion_onboarding WHERE department_id IN ({in_program}) "
            "GROUP BY department_id",
            now,
            now,
            program_id,
        )
    }

    # A department this check already advanced is left alone until the next check.
    advanced = {
        dept_id: at(when).astimezone(zone).date().isoformat()
        for dept_id, when in rows(
            "SELECT t.department_id, t.at FROM transition t JOIN department d "
            "ON d.id = t.department_id WHERE d.program_id = ? AND t.event = 'advance' "
            "AND t.to_phase = d.phase AND t.at = d.phase_entered_at",
            program_id,
        )
    }

    decisions = []
    read: dict[int, DepartmentFacts] = {}
    for dept_id, name, _, _, entered, failures, last_key, _ in departments:
        facts = None
        if dept_id in evaluated:
            headcount, identified, support = specs[name]
            onboarded, acknowledged = champions.get(dept_id, (0, 0))
            facts = DepartmentFacts(
                department=name,
                phase_entered_at=at(entered),
                metrics=metrics.get(dept_id, {}),
                attestations=attestations.get(dept_id, {}),
                approvals={g: tuple(a) for g, a in approvals.get(dept_id, {}).items()},
                training=training.get(dept_id, {}),
                champions=ChampionFact(identified, onboarded, acknowledged),
                headcount=headcount,
                support=support,
            )
            read[dept_id] = facts
        snapshot = DepartmentSnapshot(
            name, states[dept_id], failures, last_key, advanced.get(dept_id)
        )
        decisions.append(
            decide(
                plan=plan,
                machine=machine,
                snapshot=snapshot,
                facts=facts,
                now=now,
                check_key=key,
                owner_names=owners(name) if owners is not None and facts is not None else None,
            )
        )
    rows_by_id = {d[0]: (d[1], int(d[7]), at(d[4]), int(d[5]), d[6]) for d in departments}
    return Decided(program_id, plan_json, key, decisions, rows_by_id, read)


def _lean_plan(plan_json: str) -> tuple[Plan, dict[str, tuple[int, int, dict[str, Any]]]]:
    """The plan without its people: validated program, phases and gates; per department
    its headcount, number of champions and support owners, read from the JSON."""
    data = json.loads(plan_json)
    plan = Plan.model_construct(
        program=Program.model_validate(data["program"]),
        phases=[Phase.model_validate(p) for p in data["phases"]],
        gates=_GATES.validate_python(data["gates"]),
        departments=[],
        people=[],
    )
    specs = {
        d["name"]: (int(d["headcount"]), len(d.get("champions") or []), dict(d["support"]))
        for d in data["departments"]
    }
    return plan, specs


def _last_values(
    rows: Any,
    gates: set[tuple[str, timedelta, Any]],
    now: datetime,
    program_id: int,
    at: Any,
) -> dict[tuple[int, str, int], float]:
    """The latest value per department, metric and window, for gates that ask for it."""
    out: dict[tuple[int, str, int], float] = {}
    for metric, window in sorted({(m, w) for m, w, a in gates if a == "last"}):
        for dept_id, value in rows(
            "SELECT m.department_id, m.value FROM metric_observation m JOIN ("
            "SELECT department_id, max(observed_at) AS at FROM metric_observation "
            "WHERE department_id IN (SELECT id FROM department WHERE program_id = ?) "
            "AND metric = ? AND observed_at > ? AND observed_at <= ? GROUP BY department_id"
            ") l ON m.department_id = l.department_id AND m.observed_at = l.at "
            "WHERE m.metric = ?",
            program_id,
            metric,
            now - window,
            now,
            metric,
        ):
            out[(dept_id, metric, int(window.total_seconds()))] = float(value)
    return out


def _at(value: Any) -> Any:
    """A stored datetime as aware UTC: SQLite hands back naive text."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


Signature = tuple[str, tuple[tuple[str, str, float | None], ...]]


def signature(decisions: Sequence[Decision]) -> dict[str, Signature]:
    """What two runs must agree on per department: the action, and each gate's outcome
    and observed value (owner names only change the wording, not the decision)."""
    out = {}
    for d in decisions:
        results = d.verdict.results if d.verdict is not None else ()
        out[d.department] = (
            str(d.action),
            tuple((r.gate, str(r.outcome), r.observed) for r in results),
        )
    return out


def same_signature(one: Any, other: Any) -> bool:
    """Equal, but for observed values within 1e-9 of each other: PostgreSQL sums in
    parallel, in no fixed order, so an average can differ in its last bits between two
    runs over the same rows (the gates compare with the same tolerance)."""
    if one is None or other is None or one[0] != other[0] or len(one[1]) != len(other[1]):
        return one == other
    for (gate, outcome, seen), (gate2, outcome2, seen2) in zip(one[1], other[1], strict=True):
        if (gate, outcome) != (gate2, outcome2) or (seen is None) != (seen2 is None):
            return False
        if seen is not None and not math.isclose(seen, seen2, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def differences(expected: dict[str, Signature], found: dict[str, Signature]) -> list[str]:
    """Departments on which two runs disagree, each as one line (at most ten)."""
    lines = []
    for name in sorted(expected.keys() | found.keys()):
        if not same_signature(expected.get(name), found.get(name)):
            lines.append(f"{name}: {expected.get(name)} != {found.get(name)}")
    return lines[:10]
