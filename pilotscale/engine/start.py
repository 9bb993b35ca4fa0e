"""Starting a department's mini-pilot, by hand (`start-department`) or by wave (`rollout`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, update

from pilotscale.core.permissions import may_operate, may_roll_out
from pilotscale.core.phases import Event
from pilotscale.core.waves import StartDecision, can_start, plan_starts, resolve_wave_rules
from pilotscale.models import Department, Program
from pilotscale.refusal import Conflict
from pilotscale.store.queries import NotFound, list_departments
from pilotscale.store.snapshot import ProgramView, load_view, state_of


class StartRefused(Conflict):
    """The start is not allowed now; `reasons` say why, each a sentence."""

    def __init__(self, department: str, reasons: list[str]) -> None:
        self.department = department
        self.reasons = reasons
        super().__init__(f"cannot start '{department}': " + "; ".join(reasons))


@dataclass
class StartResult:
    department: str
    started: bool  # False: it was already started (by an earlier run of the same request)
    phase: str
    overridden: list[str] = field(default_factory=list)
    enqueued: int = 0


def _decision(
    view: ProgramView, department: Department, now: datetime, force: bool
) -> StartDecision:
    plan = view.plan
    rules = resolve_wave_rules(plan.rollout, [d.wave for d in view.departments])
    spec = plan.department(department.name)
    return can_start(
        department=department.name,
        wave=department.wave,
        wave_rule=rules.get(department.wave),
        states_by_department={d.name: (d.wave, state_of(d)) for d in view.departments},
        phases=view.machine.phases,
        max_active=plan.rollout.max_active,
        blackouts=[(b.start, b.end, b.reason) for b in spec.blackout],
        program_paused=view.program.paused,
        today=view.today(now),
        force=force,
    )


def _checked(
    *,
    engine: Engine,
    department: str,
    now: datetime,
    reason: str,
    force: bool,
    program: str | None,
    by: str | None = None,
) -> tuple[ProgramView, Department]:
    """The program and the department to start, once every rule allows it (and `by`, when
    given, may start it: checked before anything about the department is disclosed).

    Raises StartRefused, NotAllowed or NotFound; a department already started is
    returned as is.
    """
    if force and not reason.strip():
        raise StartRefused(department, ["--force needs a --reason, which is recorded"])
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
    row = next((d for d in view.departments if d.name == department), None)
    if row is None:
        raise NotFound("department", department, [d.name for d in view.departments])
    if by is not None:
        may_operate(view.plan, by, "start", department)
    if not view.machine.is_started(state_of(row)):
        decision = _decision(view, row, now, force)
        if not decision.allowed:
            raise StartRefused(department, decision.reasons)
    return view, row


def start_actor(*, engine: Engine, department: str, by: str, program: str | None) -> str:
    """The person id a start of `department` is recorded for, once the plan lets `by`
    start it (NotAllowed otherwise)."""
    with Session(engine) as session:
        plan = load_view(session=session, program=program).plan
    return may_operate(plan, by, "start", department).id


def rollout_actor(*, engine: Engine, by: str | None, program: str | None) -> str:
    """Who a rollout's starts are recorded for: the lead who asked (NotAllowed for anyone
    else), or the scheduler (an automation or a schedule) when nobody is named."""
    if by is None:
        return "scheduler"
    with Session(engine) as session:
        plan = load_view(session=session, program=program).plan
    return may_roll_out(plan, by).id


def preflight_start(
    *,
    engine: Engine,
    department: str,
    by: str,
    now: datetime,
    reason: str = "",
    force: bool = False,
    program: str | None = None,
) -> str | None:
    """Refuse early, without writing and without Prefect, what `start_department` would
    refuse: an unknown department or person, someone who may not start it, a start the
    rules forbid. The flow still decides on its own (the store may change meanwhile).

    Returns the phase of a department already started, which `start_department` would
    only report (nothing to start, so nothing to run); None when there is a start to do."""
    view, row = _checked(
        engine=engine,
        department=department,
        now=now,
        reason=reason,
        force=force,
        program=program,
        by=by,
    )
    return row.phase if view.machine.is_started(state_of(row)) else None


def start_department(
    *,
    engine: Engine,
    department: str,
    now: datetime,
    actor: str,
    reason: str = "",
    force: bool = False,
    program: str | None = None,
    run_id: str | None = None,
) -> StartResult:
    """Start `department` (entry actions included) in one transaction.

    Idempotent: a department that is already past its first phase is reported as
    started, not started again, so a retried flow run changes nothing.
    """
    view, row = _checked(
        engine=engine,
        department=department,
        now=now,
        reason=reason,
        force=force,
        program=program,
    )
    if view.machine.is_started(state_of(row)):
        return StartResult(department=department, started=False, phase=row.phase)
    return _start(
        engine=engine,
        view=view,
        read=row,
        force=force,
        now=now,
        actor=actor,
        reason=reason,
        run_id=run_id,
    )


def _start(
    *,
    engine: Engine,
    view: ProgramView,
    read: Department,
    force: bool,
    now: datetime,
    actor: str,
    reason: str,
    run_id: str | None,
) -> StartResult:
    # Only a start that happens needs these (message rendering, Jinja): a refused one,
    # answered by `preflight_start` at the CLI, never loads them.
    from pilotscale.engine.entry import enter_phase
    from pilotscale.engine.transitions import transition

    with Session(engine, expire_on_commit=False) as session, session.begin():
        # Wave rules and max_active are about every department of the program, so two
        # starts (a rollout and a lead at the CLI) must not both decide on what they read
        # before the other wrote: the first statement locks the program row (a write, so
        # that SQLite takes its write lock too), then the decision is taken again on what
        # is committed now.
        session.exec(
            update(Program)
            .where(col(Program.id) == view.program.id)
            .values(paused=col(Program.paused))
        )
        fresh = ProgramView(
            program=view.program,
            plan=view.plan,
            departments=list_departments(session=session, program_id=view.program.id or 0),
        )
        row = next((d for d in fresh.departments if d.id == read.id), None)
        if row is None:  # removed from the plan meanwhile
            raise NotFound("department", read.name, [d.name for d in fresh.departments])
        if fresh.machine.is_started(state_of(row)):
            return StartResult(department=row.name, started=False, phase=row.phase)
        decision = _decision(fresh, row, now, force)
        if not decision.allowed:
            raise StartRefused(row.name, decision.reasons)
        why = reason or "started by the program lead"
        if decision.overridden:
            why += " (forced past: " + "; ".join(decision.overridden) + ")"
        before = row.phase
        after = transition(
            session=session,
            department=row,
            machine=fresh.machine,
            event=Event.start,
            actor=actor,
            reason=why,
            now=now,
            run_id=run_id,
        )
        work = enter_phase(
            session=session,
            plan=fresh.plan,
            program_id=fresh.program.id or 0,
            department=row,
            phase=after.phase,
            previous_phase=before,
            now=now,
        )
    return StartResult(
        department=row.name,
        started=True,
        phase=after.phase,
        overridden=decision.overridden,
        enqueued=len(work.messages),
    )


@dataclass
class RolloutResult:
    started: list[StartResult] = field(default_factory=list)
    waiting: dict[str, list[str]] = field(default_factory=dict)  # department -> reasons


def rollout_program(
    *,
    engine: Engine,
    now: datetime,
    actor: str = "scheduler",
    program: str | None = None,
    run_id: str | None = None,
) -> RolloutResult:
    """Start every department whose wave may start now, within max_active; never forces."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
    plan = view.plan
    decisions = plan_starts(
        states_by_department={d.name: (d.wave, state_of(d)) for d in view.departments},
        wave_rules=resolve_wave_rules(plan.rollout, [d.wave for d in view.departments]),
        phases=view.machine.phases,
        max_active=plan.rollout.max_active,
        blackouts_by_department={
            d.name: [(b.start, b.end, b.reason) for b in d.blackout] for d in plan.departments
        },
        program_paused=view.program.paused,
        today=view.today(now),
    )
    result = RolloutResult()
    for name, decision in decisions:
        if not decision.allowed:
            result.waiting[name] = decision.reasons
            continue
        try:
            started = _start(
                engine=engine,
                view=view,
                read=view.department(name),
                force=False,
                now=now,
                actor=actor,
                reason=f"wave {view.department(name).wave} may start",
                run_id=run_id,
            )
        except StartRefused as refused:  # someone else started a department meanwhile
            result.waiting[name] = refused.reasons
            continue
        if started.started:
            result.started.append(started)
    return result
