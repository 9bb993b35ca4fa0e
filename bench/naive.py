"""The naive design, as most Prefect projects would write it: one task per department,
mapped over the departments, each loading that department's facts with its own queries
(one per gate, through the ORM) and deciding.

It is given every benefit of the doubt: the plan is parsed once per process, not once
per task, and it only decides (it writes nothing).
"""

from __future__ import annotations

import threading
from datetime import datetime
from functools import lru_cache

from prefect import flow, task, unmapped
from sqlalchemy import func
from sqlmodel import Session, col, select

from pilotscale.core.decisions import decide, gates_for
from pilotscale.core.facts import (
    ApprovalFact,
    AttestationFact,
    ChampionFact,
    DepartmentFacts,
    MetricAggregate,
    TrainingFact,
    metric_key,
)
from pilotscale.core.phases import PhaseMachine
from pilotscale.core.recipients import owner_or_lead
from pilotscale.db import get_engine
from pilotscale.models import (
    Approval,
    Attestation,
    ChampionOnboarding,
    Department,
    MetricObservation,
    Program,
    TrainingAssignment,
)
from pilotscale.plan.schema import (
    ApprovalGate,
    AttestationGate,
    ChampionCoverageGate,
    MetricGate,
    Plan,
    TrainingGate,
)
from pilotscale.store.snapshot import snapshot_of, state_of

_plan_lock = threading.Lock()


def _plan(url: str) -> tuple[Plan, dict[str, str]]:
    """The plan, and person id -> name; parsed once per process."""
    # Tasks run in threads: without the lock each would parse the plan on first use.
    with _plan_lock:
        return _parsed_plan(url)


@lru_cache(maxsize=4)
def _parsed_plan(url: str) -> tuple[Plan, dict[str, str]]:
    with Session(get_engine(url)) as session:
        program = session.exec(select(Program)).one()
        plan = Plan.model_validate_json(program.plan_json)
    return plan, {p.id: p.name for p in plan.people}


@task(name="check-department")
def check_department(url: str, department: str, as_of: datetime) -> str:
    """Load one department's facts, gate by gate, and decide; returns the action."""
    plan, people = _plan(url)
    machine = PhaseMachine(plan.phase_names())
    with Session(get_engine(url)) as session:
        row = session.exec(select(Department).where(col(Department.name) == department)).one()
        facts = None
        if machine.is_evaluated(state_of(row)):
            facts = _facts(session, plan, row, as_of)
    decision = decide(
        plan=plan,
        machine=machine,
        snapshot=snapshot_of(row),
        facts=facts,
        now=as_of,
        check_key=as_of.date().isoformat(),
        owner_names=_owner_names(plan, people, department),
    )
    return str(decision.action)


@flow(name="naive-readiness-check")
def naive_check(url: str, departments: list[str], as_of: datetime) -> dict[str, str]:
    futures = check_department.map(unmapped(url), departments, unmapped(as_of))
    return {name: future.result() for name, future in zip(departments, futures, strict=True)}


def _owner_names(plan: Plan, people: dict[str, str], department: str) -> dict[str, str]:
    spec = plan.department(department)
    return {g.name: people[owner_or_lead(plan, spec, g.owner)] for g in plan.gates}


def _facts(session: Session, plan: Plan, row: Department, now: datetime) -> DepartmentFacts:
    spec = plan.department(row.name)
    dept_id = row.id or 0
    metrics: dict[tuple[str, int], MetricAggregate] = {}
    attestations: dict[str, AttestationFact] = {}
    approvals: dict[str, tuple[ApprovalFact, ...]] = {}
    training: dict[str, TrainingFact] = {}
    champions = ChampionFact(identified=len(spec.champions))
    for gate in gates_for(plan, row.phase):
        if isinstance(gate, MetricGate):
            m = MetricObservation
            inside = (
                col(m.department_id) == dept_id,
                col(m.metric) == gate.metric,
                col(m.observed_at) > now - gate.window,
                col(m.observed_at) <= now,
            )
            samples = session.exec(
                select(m.observed_at, m.value).where(*inside).order_by(col(m.observed_at))
            ).all()
            if samples:
                metrics[metric_key(gate.metric, gate.window)] = MetricAggregate.of(samples)
        elif isinstance(gate, AttestationGate):
            found = session.exec(
                select(Attestation)
                .where(
                    col(Attestation.department_id) == dept_id,
                    col(Attestation.gate) == gate.name,
                    col(Attestation.phase) == row.phase,
                    col(Attestation.attested_at) >= row.phase_entered_at,
                    col(Attestation.attested_at) <= now,
                )
                .order_by(col(Attestation.attested_at).desc(), col(Attestation.id).desc())
            ).first()
            if found is not None:
                attestations[gate.name] = AttestationFact(
                    found.attested_by, found.evidence, found.attested_at, found.expires_at
                )
        elif isinstance(gate, ApprovalGate):
            given = session.exec(
                select(Approval)
                .where(
                    col(Approval.department_id) == dept_id,
                    col(Approval.gate) == gate.name,
                    col(Approval.phase) == row.phase,
                    col(Approval.phase_entered_at) == row.phase_entered_at,
                    col(Approval.approved_at) <= now,
                )
                .order_by(col(Approval.approved_at), col(Approval.id))
            ).all()
            approvals[gate.name] = tuple(
                ApprovalFact(a.approver_key, a.approved_at, a.comment) for a in given
            )
        elif isinstance(gate, TrainingGate):
            t = TrainingAssignment
            segments = ["power", "casual"] if gate.segment == "all" else [gate.segment]
            for segment in segments:
                assigned, done = session.exec(
                    select(
                        func.count(),
                        func.count(col(t.completed_at)).filter(col(t.completed_at) <= now),
                    ).where(
                        col(t.department_id) == dept_id,
                        col(t.segment) == segment,
                        col(t.assigned_at) <= now,
                    )
                ).one()
                if assigned:
                    training[segment] = TrainingFact(int(assigned), int(done))
        elif isinstance(gate, ChampionCoverageGate):
            c = ChampionOnboarding
            welcomed, acked = session.exec(
                select(
                    func.count(col(c.welcomed_at)).filter(col(c.welcomed_at) <= now),
                    func.count(col(c.acknowledged_at)).filter(col(c.acknowledged_at) <= now),
                ).where(col(c.department_id) == dept_id)
            ).one()
            champions = ChampionFact(len(spec.champions), int(welcomed), int(acked))
    return DepartmentFacts(
        department=row.name,
        phase_entered_at=row.phase_entered_at,
        metrics=metrics,
        attestations=attestations,
        approvals=approvals,
        training=training,
        champions=champions,
        headcount=spec.headcount,
        support=spec.support.model_dump(),
    )
