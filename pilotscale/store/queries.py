"""Read helpers shared by the CLI, the flows and the UI."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from pilotscale.core.phases import Event
from pilotscale.core.regression import REGRESSED
from pilotscale.gcpause import gc_paused
from pilotscale.memory import release_free_memory
from pilotscale.models import Department, Program, Transition
from pilotscale.plan.schema import Plan
from pilotscale.refusal import Missing
from pilotscale.store.id_match import id_in
from pilotscale.store.roster_plan import with_roster


class NotFound(Missing, LookupError):
    """An unknown name; `kind`, `name` and `known` let the CLI suggest the closest match."""

    def __init__(self, kind: str, name: str, known: Iterable[str], where: str = "") -> None:
        self.kind = kind
        self.name = name
        self.known = sorted(known)
        listing = ", ".join(self.known) or "none"
        super().__init__(f"unknown {kind} '{name}'{where} (known: {listing})")


class NoProgram(Missing, LookupError):
    """No program was named and the store does not hold exactly one to default to."""


def get_program(*, session: Session, name: str | None) -> Program:
    """The program called `name`; with None, the only program in the store."""
    # The plan's JSON is left unread: load_program_plan reads it once per version (and
    # store.ownerplan the owners' plan).
    query = select(Program).options(
        defer(Program.plan_json),  # type: ignore[arg-type]
        defer(Program.owners_plan_json),  # type: ignore[arg-type]
    )
    programs = list(session.exec(query.order_by(col(Program.name))))
    if name is not None:
        for program in programs:
            if program.name == name:
                return program
        raise NotFound("program", name, [p.name for p in programs])
    if not programs:
        raise NoProgram("no program in the store yet; apply a plan first: pilotscale apply PLAN")
    if len(programs) > 1:
        names = ", ".join(p.name for p in programs)
        raise NoProgram(f"the store holds several programs ({names}); name the one you mean")
    return programs[0]


def load_program_plan(*, session: Session, program: Program, people: bool = True) -> Plan:
    """The plan as last applied (the store's copy, not a file that may have changed since),
    with the roster's people and headcounts (`store.roster_plan`); `people=False`: the
    plan exactly as applied (what the roster is compared with).

    Parsed once per process per version of the plan and the roster (keyed by their
    fingerprints): a check reads the plan in several tasks, and a 100,000-person plan
    takes most of a second to validate. Sharing one instance is safe: plans are frozen.
    The JSON is read only on a miss, and not kept: at 200,000 people it is 32 MB per copy.
    """
    key = program.plan_sha256
    plan = _PLANS.get(key)
    if plan is None:
        text = session.exec(select(Program.plan_json).where(col(Program.id) == program.id)).one()
        plan = _keep(key, parse_plan_json(text))
    if not people:
        return plan
    roster_key = f"{key}|{program.roster_sha256}|{program.roster_imported_at}"
    found = _PLANS.get(roster_key)
    if found is None:
        found = _keep(roster_key, with_roster(session=session, program=program, plan=plan))
    return found


def _keep(key: str, plan: Plan) -> Plan:
    while len(_PLANS) >= PLANS_KEPT:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[key] = plan
    return plan


PLANS_KEPT = 4
_PLANS: dict[str, Plan] = {}  # plan (and roster) fingerprint -> parsed plan, oldest first


def forget_parsed_plans() -> None:
    """Parse again on the next read (the benchmark times cold reads)."""
    _PLANS.clear()


def parse_plan_json(plan_json: str) -> Plan:
    """A stored plan's JSON, validated; the parser's scratch memory goes back to the OS."""
    with gc_paused():
        plan = Plan.model_validate_json(plan_json)
    release_free_memory()
    return plan


def list_departments(
    *, session: Session, program_id: int, include_removed: bool = False
) -> list[Department]:
    """The program's departments by wave, then name; removed ones only if asked for."""
    query = select(Department).where(col(Department.program_id) == program_id)
    if not include_removed:
        query = query.where(col(Department.removed_at).is_(None))
    return list(session.exec(query.order_by(col(Department.wave), col(Department.name))))


def phase_visits(*, session: Session, department_ids: Iterable[int]) -> dict[int, datetime]:
    """Department id -> when it entered its current phase, for `department_ids` in one
    query (the visit a message's signed links are bound to)."""
    ids = sorted(set(department_ids))
    if not ids:
        return {}
    query = select(Department.id, Department.phase_entered_at).where(
        id_in(session, col(Department.id), ids)
    )
    return {int(id_ or 0): entered for id_, entered in session.exec(query)}


def get_department(
    *, session: Session, program_id: int, name: str, include_removed: bool = False
) -> Department:
    """The department called `name`; NotFound lists the known ones."""
    departments = list_departments(
        session=session, program_id=program_id, include_removed=include_removed
    )
    for department in departments:
        if department.name == name:
            return department
    raise NotFound("department", name, [d.name for d in departments])


def department_history(*, session: Session, department_id: int) -> list[Transition]:
    """Every transition of the department, oldest first."""
    return list(
        session.exec(
            select(Transition)
            .where(col(Transition.department_id) == department_id)
            .order_by(col(Transition.at), col(Transition.id))
        )
    )


def last_regression(*, session: Session, department_id: int, until: datetime) -> Transition | None:
    """The department's latest transition up to `until`, if a regression made it (a check
    that found the last phase's monitoring failing); None otherwise."""
    latest = session.exec(
        select(Transition)
        .where(col(Transition.department_id) == department_id, col(Transition.at) <= until)
        .order_by(col(Transition.at).desc(), col(Transition.id).desc())
        .limit(1)
    ).first()
    if latest is None or not latest.reason.startswith(REGRESSED):
        return None
    return latest


def entries_between(
    *, session: Session, program_id: int, phases: Iterable[str], start: datetime, end: datetime
) -> list[tuple[int, str, str, datetime]]:
    """(department id, name, phase, when) of each start or advance into one of `phases`
    in (start, end], in order: a rollback into a phase is no achievement to tell."""
    wanted = list(phases)
    if not wanted:
        return []
    rows = session.exec(
        select(Department.id, Department.name, Transition.to_phase, Transition.at)
        .join(Department, col(Department.id) == col(Transition.department_id))
        .where(
            col(Department.program_id) == program_id,
            col(Transition.event).in_([Event.advance.value, Event.start.value]),
            col(Transition.to_phase).in_(wanted),
            col(Transition.at) > start,
            col(Transition.at) <= end,
        )
        .order_by(col(Transition.at), col(Transition.id))
    ).all()
    return [(dept_id or 0, name, phase, at) for dept_id, name, phase, at in rows]


def advances_between(
    *, session: Session, program_id: int, start: datetime, end: datetime
) -> list[tuple[str, str]]:
    """(department title, phase it advanced to) for each advance in (start, end], in order."""
    rows = session.exec(
        select(Department.title, Transition.to_phase)
        .join(Department, col(Department.id) == col(Transition.department_id))
        .where(
            col(Department.program_id) == program_id,
            col(Transition.event) == Event.advance.value,
            col(Transition.at) > start,
            col(Transition.at) <= end,
        )
        .order_by(col(Transition.at))
    ).all()
    return [(title, phase) for title, phase in rows]
