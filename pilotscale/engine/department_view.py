"""Everything one department's page shows, read in one session: its gates as the
readiness check sees them (`engine.verdicts`), its history (`engine.timeline`),
champions, training by segment, approvals given and still wanted, and attestations with
their expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.decisions import gates_for
from pilotscale.core.vocabulary import department_state
from pilotscale.engine.timeline import Entry, department_timeline
from pilotscale.engine.verdicts import DepartmentVerdict, read_verdicts
from pilotscale.models import Approval, Attestation, Department
from pilotscale.plan.schema import ApprovalGate
from pilotscale.store import impact
from pilotscale.store.department_rows import (
    ChampionRow,
    approvals_of,
    attestations_of,
    champions_of,
)
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import ProgramView, load_view, state_of


@dataclass(frozen=True)
class TrainingRow:
    segment: str
    assigned: int
    completed: int

    @property
    def share(self) -> float | None:
        return self.completed / self.assigned if self.assigned else None


@dataclass(frozen=True)
class PendingApproval:
    gate: str
    title: str
    approver: str  # person id
    approver_name: str


@dataclass(frozen=True)
class DepartmentPage:
    program_title: str
    timezone: str  # the program's: dates on the page are local to it
    department: Department
    phase_title: str
    started: bool
    owner_names: dict[str, str]  # person id -> name, for everyone the page names
    sponsor: str | None  # person id; None: none named (the program lead hears for them)
    verdict: DepartmentVerdict | None  # None: not started, or a phase the plan no longer has
    history: list[Entry]  # phase changes, waivers, the program's pauses (engine.timeline)
    champions: list[ChampionRow]
    training: list[TrainingRow]
    approvals: list[Approval]  # of the current visit
    pending_approvals: list[PendingApproval]
    attestations: list[Attestation]  # newest first
    phases: list[tuple[str, str]]  # (name, title) of the plan
    state: str = ""  # its word (core.vocabulary), as the board and the report say it

    def name_of(self, person: str) -> str:
        return self.owner_names.get(person, person)


def read_department(
    *, engine: Engine, department: str, now: datetime, program: str | None = None
) -> DepartmentPage:
    """The page's data; NotFound (404) with the known names for an unknown department."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        return department_page(session=session, view=view, department=department, now=now)


def department_page(
    *, session: Session, view: ProgramView, department: str, now: datetime
) -> DepartmentPage:
    row = view.departments_by_name.get(department)
    if row is None:
        raise NotFound("department", department, view.departments_by_name)
    plan, machine = view.plan, view.machine
    spec = plan.department(department)
    ident = row.id or 0
    verdict = read_verdicts(
        session=session, view=view, now=now, names=[department], with_people=True
    ).get(department)
    completions = impact.completions_by_department(
        session=session, department_ids=[ident], now=now
    ).get(ident, impact.Completions())
    segments = sorted({s for s, _ in completions.rows})
    training = [TrainingRow(s, *_counts(completions.of(s))) for s in segments]
    current = [
        a
        for a in approvals_of(session=session, department_ids=[ident]).get(ident, [])
        if a.phase_entered_at == row.phase_entered_at
    ]
    given = {(a.gate, a.approver_key) for a in current}
    known_phase = machine.index(row.phase) is not None
    pending = [
        PendingApproval(g.name, g.title, a, plan.person(a).name)
        for g in (gates_for(plan, row.phase) if known_phase else [])
        if isinstance(g, ApprovalGate)
        for a in g.approvers
        if (g.name, a) not in given
    ]
    people = {p.id: p.name for p in plan.people}
    phase_titles = {p.name: p.title or p.name for p in plan.phases}
    return DepartmentPage(
        program_title=plan.program.title,
        timezone=plan.program.timezone,
        department=row,
        phase_title=phase_titles.get(row.phase, row.phase),
        started=machine.is_started(state_of(row)),
        state=str(
            department_state(
                status=row.status,
                started=machine.is_started(state_of(row)),
                final=row.phase == machine.final,
                outcome=str(verdict.outcome) if verdict else None,
            )
        ),
        owner_names=people,
        sponsor=spec.sponsor,
        verdict=verdict,
        history=department_timeline(session=session, department=row),
        champions=champions_of(session=session, department_ids=[ident]),
        training=training,
        approvals=current,
        pending_approvals=pending,
        attestations=list(
            reversed(attestations_of(session=session, department_ids=[ident]).get(ident, []))
        ),
        phases=[(p.name, p.title or p.name) for p in plan.phases],
    )


def _counts(found: tuple[int, list[datetime]]) -> tuple[int, int]:
    assigned, done = found
    return assigned, len(done)
