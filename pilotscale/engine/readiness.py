"""The readiness check as a reconciler: read everything, decide purely, apply per department.

Reads are bulk (one query per kind of fact for all departments); decisions come from
the pure core; each department's decision is applied in its own transaction — the
phase change, its transition row, the gate results, the entry actions of the next
phase and every notification they cause commit together or not at all. A department
that another run changed in the meantime is left alone (version check) and picked up
by the next check, so two racing checks advance it once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from models import Department, GateResult, Notification, Person, TrainingAssignment
from pilotscale.core.facts import ApprovalFact, DepartmentFacts
from pilotscale.core.messages import Message, for_decision, training_reminders
from pilotscale.core.phases import Event
from pilotscale.core.readiness import Action, Decision, counts, decide
from pilotscale.core.recipients import gate_owner, owner_or_lead
from pilotscale.engine.entry import enter_phase, person_ids
from pilotscale.engine.transitions import save_department, transition
from pilotscale.plan.schema import Plan
from pilotscale.store.facts import DepartmentRef, load_facts
from pilotscale.store.insert import insert_ignore
from pilotscale.store.outbox import enqueue
from pilotscale.store.snapshot import (
    ProgramView,
    advanced_into_current_phase,
    load_view,
    snapshot_of,
    state_of,
)
from pilotscale.store.versioned import ConcurrentUpdate


@dataclass
class CheckReport:
    program: str
    check_key: str
    as_of: datetime
    decisions: list[Decision] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # changed by another run meanwhile
    enqueued: int = 0

    def tally(self) -> dict[str, int]:
        applied = [d for d in self.decisions if d.department not in self.conflicts]
        return {str(action): n for action, n in counts(applied).items()}

    def summary(self) -> str:
        t = self.tally()
        parts = [f"{t['advance']} advanced", f"{t['hold']} held"]
        if t["block"]:
            parts.append(f"{t['block']} blocked")
        if t["monitor"]:
            parts.append(f"{t['monitor']} operating")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} left to the next check (changed concurrently)")
        return ", ".join(parts)


def check_key_for(view: ProgramView, now: datetime) -> str:
    """A check is identified by its day in the program's time zone."""
    return view.today(now).isoformat()


def evaluate(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
) -> tuple[str, list[Decision], dict[str, DepartmentFacts]]:
    """Decide for every department of the program (read-only).

    `metric_errors` (metric name -> why its source failed) makes that metric's gates
    pending with the reason, whatever the stored observations say.
    """
    key = check_key_for(view, now)
    machine = view.machine
    evaluated = [d for d in view.departments if machine.is_evaluated(state_of(d))]
    refs = [DepartmentRef(d.id or 0, d.name, d.phase, d.phase_entered_at) for d in evaluated]
    facts = load_facts(
        session=session, plan=view.plan, departments=refs, now=now, metric_errors=metric_errors
    )
    advanced = advanced_into_current_phase(session=session, department_ids=[r.id for r in refs])
    names = _OwnerNames(view.plan)
    decisions = [
        decide(
            plan=view.plan,
            machine=machine,
            snapshot=snapshot_of(
                d,
                entered_by_check=check_key_for(view, advanced[d.id]) if d.id in advanced else None,
            ),
            facts=facts.get(d.name),
            now=now,
            check_key=key,
            owner_names=names.of(d.name),
        )
        for d in view.departments
    ]
    return key, decisions, facts


class _OwnerNames:
    """`snapshot.owner_names` for every department of a check, from lookups indexed once:
    scanning the plan's people per gate and department made a check quadratic (1,000
    departments of 100 people: 30 s of 33)."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.people = {p.id: p.name for p in plan.people}
        self.departments = {d.name: d for d in plan.departments}

    def of(self, department: str) -> dict[str, str]:
        spec = self.departments[department]
        return {
            g.name: self.people[owner_or_lead(self.plan, spec, g.owner)] for g in self.plan.gates
        }


@dataclass
class PreparedCheck:
    """Everything a check read, and what it decided; applying it needs nothing else."""

    view: ProgramView
    check_key: str
    as_of: datetime
    decisions: list[Decision]
    facts: dict[str, DepartmentFacts]
    overdue: dict[str, list[tuple[str, str, datetime]]]


def prepare_check(
    *,
    engine: Engine,
    now: datetime,
    program: str | None = None,
    metric_errors: Mapping[str, str] | None = None,
) -> PreparedCheck:
    """Read and decide (no writes): one query per kind of fact for all departments."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        key, decisions, facts = evaluate(
            session=session, view=view, now=now, metric_errors=metric_errors
        )
        overdue = _overdue_training(session=session, view=view, now=now)
    return PreparedCheck(view, key, now, decisions, facts, overdue)


def apply_check(
    *,
    engine: Engine,
    prepared: PreparedCheck,
    run_id: str | None = None,
    actor: str = "scheduler",
    departments: Iterable[str] | None = None,
) -> CheckReport:
    """Apply each department's decision in its own transaction (see the module doc)."""
    wanted = set(departments) if departments is not None else None
    report = CheckReport(
        program=prepared.view.plan.program.name,
        check_key=prepared.check_key,
        as_of=prepared.as_of,
        decisions=[d for d in prepared.decisions if wanted is None or d.department in wanted],
    )
    # Read once per check, not once per advancing department (each read is every person).
    people: dict[str, int] | None = None
    for decision in report.decisions:
        if decision.action is Action.skip:
            continue
        if decision.action is Action.advance and people is None:
            with Session(engine) as session:
                people = person_ids(session=session, program_id=prepared.view.program.id or 0)
        facts = prepared.facts.get(decision.department)
        try:
            report.enqueued += _apply(
                engine=engine,
                view=prepared.view,
                decision=decision,
                check_key=prepared.check_key,
                now=prepared.as_of,
                run_id=run_id,
                actor=actor,
                overdue=prepared.overdue.get(decision.department, []),
                approvals=facts.approvals if facts else {},
                people=people,
            )
        except ConcurrentUpdate:
            report.conflicts.append(decision.department)
    return report


def run_readiness_check(
    *,
    engine: Engine,
    now: datetime,
    program: str | None = None,
    run_id: str | None = None,
    actor: str = "scheduler",
    departments: Iterable[str] | None = None,
) -> CheckReport:
    """Prepare and apply in one call (the CLI without Prefect, tests, the benchmark)."""
    prepared = prepare_check(engine=engine, now=now, program=program)
    return apply_check(
        engine=engine, prepared=prepared, run_id=run_id, actor=actor, departments=departments
    )


def _apply(
    *,
    engine: Engine,
    view: ProgramView,
    decision: Decision,
    check_key: str,
    now: datetime,
    run_id: str | None,
    actor: str,
    overdue: list[tuple[str, str, datetime]],
    approvals: Mapping[str, tuple[ApprovalFact, ...]],
    people: Mapping[str, int] | None = None,
) -> int:
    """One department, one transaction. Returns the number of messages enqueued."""
    plan, program_id = view.plan, view.program.id or 0
    read = view.department(decision.department)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = session.get(Department, read.id)
        if row is None or row.version != read.version:
            raise ConcurrentUpdate(decision.department)
        entered_at = row.phase_entered_at
        _record_results(
            session=session,
            row=row,
            decision=decision,
            check_key=check_key,
            now=now,
            run_id=run_id,
            view=view,
        )
        messages: list[Message] = []
        # last_check_key names the check that last counted a failure, so a check that found
        # only pending gates still counts its failure if it is re-run once the data is in.
        counted = decision.consecutive_failures > row.consecutive_failures
        bookkeeping = {
            "consecutive_failures": decision.consecutive_failures,
            "last_check_key": check_key if counted else row.last_check_key,
        }
        if decision.action in (Action.advance, Action.block):
            transition(
                session=session,
                department=row,
                machine=view.machine,
                event=Event.advance if decision.action is Action.advance else Event.block,
                actor=actor,
                reason=decision.reason,
                now=now,
                run_id=run_id,
                extra=bookkeeping,
            )
        elif (row.consecutive_failures, row.last_check_key) != tuple(bookkeeping.values()):
            save_department(session=session, department=row, now=now, values=bookkeeping)
        approved = {gate: [a.by for a in given] for gate, given in approvals.items()}
        requested = _approval_requests(
            session=session, row=row, decision=decision, entered_at=entered_at
        )
        messages += for_decision(
            plan,
            decision,
            check_key=check_key,
            phase_entered_at=entered_at,
            now=now,
            approved_by=approved,
            requested_at=requested,
        )
        spec = plan.department(row.name)
        messages += training_reminders(plan, spec, overdue, check_key=check_key, now=now)
        enqueued = enqueue(
            session=session,
            plan=plan,
            program_id=program_id,
            department_ids={row.name: row.id or 0},
            messages=messages,
            now=now,
        )
        if decision.action is Action.advance:
            work = enter_phase(
                session=session,
                plan=plan,
                program_id=program_id,
                department=row,
                phase=decision.after.phase,
                previous_phase=decision.before.phase,
                now=now,
                people=people
                if people is not None
                else person_ids(session=session, program_id=program_id),
            )
            enqueued += len(work.messages)
    return enqueued


def _approval_requests(
    *, session: Session, row: Department, decision: Decision, entered_at: datetime
) -> dict[str, datetime]:
    """When each pending approval gate's approvers were first asked in this phase visit.

    Only departments waiting on an approval pay for this query, and it reads the outbox,
    which is where the request was recorded in the first place.
    """
    if decision.verdict is None:
        return {}
    waiting = [r.gate for r in decision.verdict.holding if r.kind == "approval"]
    out: dict[str, datetime] = {}
    for gate in waiting:
        prefix = f"approval_requested|{row.name}:{gate}:{entered_at.isoformat()}|"
        first = session.exec(
            select(func.min(Notification.created_at)).where(
                col(Notification.department_id) == row.id,
                col(Notification.dedupe_key).startswith(prefix, autoescape=True),
            )
        ).one()
        if first is not None:
            out[gate] = first if first.tzinfo else first.replace(tzinfo=UTC)
    return out


def _record_results(
    *,
    session: Session,
    row: Department,
    decision: Decision,
    check_key: str,
    now: datetime,
    run_id: str | None,
    view: ProgramView,
) -> None:
    if decision.verdict is None:
        return
    spec = view.plan.department(row.name)
    insert_ignore(
        session=session,
        model=GateResult,
        rows=[
            {
                "department_id": row.id,
                "phase": decision.before.phase,
                "gate": r.gate,
                "kind": r.kind,
                "outcome": str(r.outcome),
                "observed": r.observed,
                "observed_text": r.observed_text,
                "threshold_text": r.threshold_text,
                "reason": r.reason,
                "owner": gate_owner(view.plan, spec, r.gate),
                "evaluated_at": now,
                "check_key": check_key,
                "run_id": run_id,
            }
            for r in decision.verdict.results
        ],
    )


def _overdue_training(
    *, session: Session, view: ProgramView, now: datetime
) -> dict[str, list[tuple[str, str, datetime]]]:
    """Incomplete assignments past due, per department: (person key, module, due) — one query."""
    t = TrainingAssignment
    rows = session.exec(
        select(Department.name, Person.key, t.module_id, t.due_at)
        .join(Department, col(Department.id) == col(t.department_id))
        .join(Person, col(Person.id) == col(t.person_id))
        .where(
            col(Department.program_id) == (view.program.id or 0),
            col(t.completed_at).is_(None),
            col(t.due_at) <= now,
        )
    ).all()
    out: dict[str, list[tuple[str, str, datetime]]] = {}
    for dept, person, module, due in rows:
        out.setdefault(dept, []).append((person, module, due))
    return out
