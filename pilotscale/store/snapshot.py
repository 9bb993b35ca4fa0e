"""A program as the store holds it right now: its plan and its departments.

Every reader starts from it: `status`, `explain`, the report, the digest and the readiness
check (whose gate verdicts are read from it in pilotscale.engine.verdicts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from pilotscale.core.decisions import DepartmentSnapshot
from pilotscale.core.phases import DeptState, PhaseMachine
from pilotscale.core.states import Status
from pilotscale.models import Department, Program, Transition
from pilotscale.plan.schema import Plan
from pilotscale.store.id_match import id_in
from pilotscale.store.ownerplan import load_owners_plan
from pilotscale.store.queries import get_program, list_departments, load_program_plan


@dataclass(frozen=True)
class ProgramView:
    program: Program
    plan: Plan
    departments: list[Department]

    @cached_property
    def machine(self) -> PhaseMachine:
        return PhaseMachine(self.plan.phase_names())

    @cached_property
    def departments_by_name(self) -> dict[str, Department]:
        # Looked up once per decision: a scan each time made a 2,000-department check
        # quadratic.
        return {d.name: d for d in self.departments}

    def department(self, name: str) -> Department:
        """The department read with this view; KeyError if there is none."""
        return self.departments_by_name[name]

    def today(self, now: datetime) -> date:
        """The date in the program's time zone: blackouts and checks are local days."""
        return now.astimezone(ZoneInfo(self.plan.program.timezone)).date()


def load_view(
    *, session: Session, program: str | None = None, owners_only: bool = False
) -> ProgramView:
    """The program as stored. `owners_only`: its plan holds only the people who own a
    gate (`store.ownerplan`), for views that name no one else."""
    row = get_program(session=session, name=program)
    assert row.id is not None
    load = load_owners_plan if owners_only else load_program_plan
    return ProgramView(
        program=row,
        plan=load(session=session, program=row),
        departments=list_departments(session=session, program_id=row.id),
    )


def state_of(department: Department) -> DeptState:
    return DeptState(phase=department.phase, status=Status(department.status))


def snapshot_of(
    department: Department,
    *,
    entered_by_check: str | None = None,
    gate_failures: Mapping[str, int] | None = None,
) -> DepartmentSnapshot:
    return DepartmentSnapshot(
        name=department.name,
        state=state_of(department),
        consecutive_failures=department.consecutive_failures,
        last_check_key=department.last_check_key,
        entered_by_check=entered_by_check,
        gate_failures=dict(gate_failures or {}),
    )


def advanced_into_current_phase(
    *, session: Session, department_ids: Sequence[int]
) -> dict[int, datetime]:
    """When each department was advanced into its current phase visit, for those that got
    there by an advance (not a start or a rollback): one query for all of them."""
    if not department_ids:
        return {}
    t, d = Transition, Department
    rows = session.exec(
        select(t.department_id, t.at)
        .join(d, col(d.id) == col(t.department_id))
        .where(
            id_in(session, col(t.department_id), department_ids),
            col(t.event) == "advance",
            col(t.to_phase) == col(d.phase),
            col(t.at) == col(d.phase_entered_at),
        )
    ).all()
    return {department_id: at for department_id, at in rows}
