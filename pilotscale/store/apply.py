"""Bring the store in line with a plan: idempotent, explained, and never losing history.

Applying the same plan twice writes nothing. A changed plan is applied in the
caller's transaction and described line by line. What would lose track of a rollout
in flight (removing or renaming a department that has started, dropping the phase a
department is in) is refused unless forced; even then rows are only marked removed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from pilotscale.core.roster import (
    effective_segment,
    headcount_warnings,
    role_names,
    roster_references,
    unknown_references,
)
from pilotscale.core.states import Status
from pilotscale.models import Department, Person, PersonRole, Program, Transition
from pilotscale.plan.loader import LoadedPlan, located
from pilotscale.plan.problems import format_path
from pilotscale.plan.schema import ApprovalGate, Plan
from pilotscale.plan.schema import Department as PlanDepartment
from pilotscale.plan.schema import Person as PlanPerson
from pilotscale.refusal import Conflict
from pilotscale.store.identity import os_user
from pilotscale.store.ownerplan import owners_plan_json
from pilotscale.store.plandiff import describe_plan_changes, diff
from pilotscale.store.roster_rows import active_counts, roster_keys
from pilotscale.store.versioned import ConcurrentUpdate, update_department

APPLY_EVENT = "apply"
REMOVE_EVENT = "remove"
RESTORE_EVENT = "restore"
# Bound parameters per DELETE ... IN (...): well under PostgreSQL's 65,535.
STALE_BATCH = 10_000
# Plan people looked up on the roster per query (ids and emails: two IN lists).
ROSTER_LOOKUP = 1000

# (person key, role, department name or None, detail)
RoleKey = tuple[str, str, str | None, str]


class ApplyRefused(Conflict):
    """The plan would lose track of a rollout in flight; `reasons` says where."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass(frozen=True)
class ApplyReport:
    program: str
    created: bool
    changes: list[str] = field(default_factory=list)
    unchanged: bool = False
    # Located (FILE:LINE: ...): e.g. a headcount the active roster disagrees with.
    warnings: list[str] = field(default_factory=list)


def canonical_json(data: Any) -> str:
    """The JSON the store keeps: same content, same text (and so the same hash)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def stored_form(plan: Plan, dumped: dict[str, Any]) -> dict[str, Any]:
    """The plan as the store keeps it: `dumped` (its JSON dump) with each person's
    defaults left out. People are most of a large plan, and reading it back peaks at
    several times its size in parser memory (200,000 people: 32 MB of JSON, 156 MB of
    peak; 21 MB and 126 MB without the defaults). Validation puts the defaults back."""
    return {**dumped, "people": [p.as_json(exclude_defaults=True) for p in plan.people]}


def definition_sha256(department: PlanDepartment) -> str:
    text = canonical_json(department.model_dump(mode="json"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apply_plan(
    *, session: Session, loaded: LoadedPlan, force: bool = False, now: datetime, actor: str
) -> ApplyReport:
    """Make the store match `loaded.plan`, in `session`'s transaction (the caller commits).

    Raises ApplyRefused, before writing anything, when the plan would remove a started
    department or a phase a department is in, unless `force`.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    plan = loaded.plan
    program = session.exec(select(Program).where(col(Program.name) == plan.program.name)).first()
    if program is not None and program.plan_sha256 == loaded.sha256:
        if program.owners_plan_json is None:  # a store applied before 0007
            program.owners_plan_json = owners_plan_json(plan, json.loads(program.plan_json))
            session.add(program)
        return ApplyReport(program=plan.program.name, created=False, unchanged=True)

    roster = (
        roster_keys(session=session, program_id=program.id) if program and program.id else set()
    )
    # Here and not in `validate`: only the store knows the roster (the check refuses too,
    # should a referenced person leave the roster later: engine.check).
    missing = unknown_references(plan, roster)
    if missing:
        raise ApplyRefused(located(loaded, [(p, f"{format_path(p)}: {m}") for p, m in missing]))
    applier = _PlanApplier(session=session, plan=plan, program=program, now=now, actor=actor)
    applier.check(force=force)
    changes = applier.write(plan_sha256=loaded.sha256)
    warnings: list[str] = []
    if program is not None and program.roster_sha256 is not None:
        counts = active_counts(session=session, program_id=program.id or 0)
        warnings = located(loaded, headcount_warnings(plan, counts))
    return ApplyReport(
        program=plan.program.name, created=program is None, changes=changes, warnings=warnings
    )


class _PlanApplier:
    """One apply: read what is stored, check, then write only what differs."""

    def __init__(
        self,
        *,
        session: Session,
        plan: Plan,
        program: Program | None,
        now: datetime,
        actor: str,
    ) -> None:
        self.session = session
        self.plan = plan
        self.program = program
        self.now = now
        self.actor = actor
        self.os_user = os_user()
        self.new_data = plan.model_dump(mode="json")
        self.old_data = _normalized(program.plan_json) if program is not None else None
        self.departments: dict[str, Department] = {}
        if program is not None:
            rows = session.exec(select(Department).where(col(Department.program_id) == program.id))
            self.departments = {row.name: row for row in rows}
        old_phases = (self.old_data or self.new_data)["phases"]
        self.old_first_phase: str = old_phases[0]["name"]

    # ------------------------------------------------------------------ checks

    def check(self, *, force: bool) -> None:
        wanted = {d.name for d in self.plan.departments}
        phases = set(self.plan.phase_names())
        reasons: list[str] = []
        for name, row in sorted(self.departments.items()):
            if name not in wanted:
                if row.removed_at is None and row.phase != self.old_first_phase:
                    reasons.append(
                        f"department {name} has started (phase {row.phase}) and is not in the "
                        "plan any more (removed or renamed); use --force to remove it anyway "
                        "(its history is kept)"
                    )
            elif row.phase not in phases:
                reasons.append(
                    f"department {name} is in phase {row.phase}, which the plan no longer has; "
                    f"roll {name} back first, or use --force to leave it in a phase the plan "
                    "does not list"
                )
        if reasons and not force:
            raise ApplyRefused(reasons)
        # Not even --force: a department must start in a phase the plan has.
        unknown = [
            f"department {d.name}: initial_phase {d.initial_phase} is not a phase of the plan"
            for d in self.plan.departments
            if d.name not in self.departments and d.initial_phase not in (None, *phases)
        ]
        if unknown:
            raise ApplyRefused(unknown)

    # ------------------------------------------------------------------ writes

    def write(self, *, plan_sha256: str) -> list[str]:
        program, created = self._write_program(plan_sha256)
        lines: list[str] = []
        if created:
            lines.append(f"program {program.name} created")
        elif self.old_data is not None:
            lines += describe_plan_changes(self.old_data, self.new_data)
        lines += self._sync_departments(program)
        lines += self._sync_people(program)
        self._sync_roles(program)
        if not lines:
            lines.append("plan stored again; nothing that affects the rollout changed")
        return lines

    def _write_program(self, plan_sha256: str) -> tuple[Program, bool]:
        settings = self.plan.program
        stored = stored_form(self.plan, self.new_data)
        plan_json = canonical_json(stored)
        owners_json = owners_plan_json(self.plan, stored)
        program = self.program
        if program is None:
            program = Program(
                name=settings.name,
                title=settings.title,
                timezone=settings.timezone,
                plan_json=plan_json,
                plan_sha256=plan_sha256,
                owners_plan_json=owners_json,
                applied_at=self.now,
                created_at=self.now,
            )
            self.session.add(program)
            self.session.flush()
            return program, True
        program.title = settings.title
        program.timezone = settings.timezone
        program.plan_json = plan_json
        program.plan_sha256 = plan_sha256
        program.owners_plan_json = owners_json
        program.applied_at = self.now
        self.session.add(program)
        return program, False

    def _sync_departments(self, program: Program) -> list[str]:
        assert program.id is not None
        lines: list[str] = []
        old_sections = {d["name"]: d for d in (self.old_data or {}).get("departments", [])}
        for wanted in self.plan.departments:
            row = self.departments.get(wanted.name)
            if row is None:
                row = self._add_department(program.id, wanted)
                lines.append(f"department {wanted.name} added ({row.phase})")
            elif row.removed_at is not None:
                self._restore_department(row, wanted)
                lines.append(f"department {wanted.name} restored ({_state(row)})")
            elif row.definition_sha256 != definition_sha256(wanted):
                self._update_department(row, wanted)
                old_section = old_sections.get(wanted.name)
                changed = (
                    diff(old_section, wanted.model_dump(mode="json"))
                    if old_section is not None
                    else ["definition changed"]
                )
                lines += [f"department {wanted.name}: {_note(line)}" for line in changed]
        wanted_names = {d.name for d in self.plan.departments}
        for name, row in sorted(self.departments.items()):
            if row.removed_at is None and name not in wanted_names:
                started = row.phase != self.old_first_phase
                self._remove_department(row, started=started)
                kept = f"was {_state(row)}; history kept" if started else "had not started"
                lines.append(f"department {name} removed ({kept})")
        return lines

    def _add_department(self, program_id: int, wanted: PlanDepartment) -> Department:
        phase = wanted.initial_phase or self.plan.phases[0].name
        started = phase != self.plan.phases[0].name
        row = Department(
            program_id=program_id,
            name=wanted.name,
            title=wanted.title,
            wave=wanted.wave,
            headcount=wanted.headcount,
            phase=phase,
            status=Status.active.value,
            version=1,
            phase_entered_at=self.now,
            started_at=self.now if started else None,
            definition_sha256=definition_sha256(wanted),
            created_at=self.now,
            updated_at=self.now,
        )
        self.session.add(row)
        self.session.flush()
        self.departments[wanted.name] = row
        self._record(row, APPLY_EVENT, "initial phase from plan", from_state=None)
        return row

    def _restore_department(self, row: Department, wanted: PlanDepartment) -> None:
        self._versioned_update(row, {**_plan_fields(wanted), "removed_at": None})
        self._record(row, RESTORE_EVENT, "back in the plan", from_state=(row.phase, row.status))

    def _update_department(self, row: Department, wanted: PlanDepartment) -> None:
        self._versioned_update(row, _plan_fields(wanted))

    def _remove_department(self, row: Department, *, started: bool) -> None:
        self._versioned_update(row, {"removed_at": self.now})
        reason = "removed from the plan" + (" (forced: it had started)" if started else "")
        self._record(row, REMOVE_EVENT, reason, from_state=(row.phase, row.status))

    def _versioned_update(self, row: Department, values: dict[str, Any]) -> None:
        assert row.id is not None
        if not update_department(
            session=self.session,
            department_id=row.id,
            expected_version=row.version,
            values=values,
            now=self.now,
        ):
            raise ConcurrentUpdate(
                f"department {row.name} changed while the plan was being applied; apply again"
            )
        self.session.refresh(row)

    def _record(
        self, row: Department, event: str, reason: str, *, from_state: tuple[str, str] | None
    ) -> None:
        assert row.id is not None
        self.session.add(
            Transition(
                department_id=row.id,
                from_phase=from_state[0] if from_state else None,
                from_status=from_state[1] if from_state else None,
                to_phase=row.phase,
                to_status=row.status,
                event=event,
                actor=self.actor,
                reason=reason,
                at=self.now,
                os_user=self.os_user,
            )
        )

    # ------------------------------------------------------------------ people and roles

    def _sync_people(self, program: Program) -> list[str]:
        assert program.id is not None
        # The plan's people, not the roster's: a 100,000-person roster is not read here.
        rows = {
            p.key: p
            for p in self.session.exec(
                select(Person).where(col(Person.program_id) == program.id, Person.source == "plan")
            )
        }
        if program.roster_sha256 is not None:  # plan-only stores: nothing to look up
            unlisted = [p for p in self.plan.people if p.id not in rows]
            rows.update(self._roster_rows(program.id, unlisted))
        old_people = {p["id"]: p for p in (self.old_data or {}).get("people", [])}
        roles = role_names(self.plan)
        lines: list[str] = []
        added = 0
        for wanted in self.plan.people:
            row = rows.get(wanted.id)
            values = self._person_fields(wanted, row, roles.get(wanted.id, set()))
            if row is None:
                self.session.add(Person(program_id=program.id, key=wanted.id, **values))
                added += 1
                if not self._created:
                    lines.append(f"person {wanted.id} added")
                continue
            changed = {k: v for k, v in values.items() if getattr(row, k) != v}
            if row.key != wanted.id:  # the roster knew them by another id, same email
                changed["key"] = wanted.id
            if row.removed_at is not None:
                changed["removed_at"] = None
                lines.append(f"person {wanted.id} restored")
            elif wanted.id in old_people:
                lines += [
                    f"person {wanted.id}: {line}"
                    for line in diff(old_people[wanted.id], wanted.as_json())
                ]
            for key, value in changed.items():
                setattr(row, key, value)
            if changed:
                self.session.add(row)
        if self._created and added:
            lines.append(f"{added} {'person' if added == 1 else 'people'} added")
        wanted_keys = {p.id for p in self.plan.people}
        for key, row in sorted(rows.items()):
            if row.removed_at is None and row.source == "plan" and key not in wanted_keys:
                if row.in_roster:
                    # Still an employee: off the plan, on the roster, still counted.
                    row.source = "roster"
                    lines.append(f"person {key} removed from the plan (kept: on the roster)")
                else:
                    row.removed_at = self.now
                    lines.append(f"person {key} removed")
                self.session.add(row)
        self.session.flush()
        return lines

    def _roster_rows(self, program_id: int, people: list[PlanPerson]) -> dict[str, Person]:
        """Roster rows that are these plan people, by id or else by email."""
        found: dict[str, Person] = {}
        for first in range(0, len(people), ROSTER_LOOKUP):
            chunk = people[first : first + ROSTER_LOOKUP]
            emails = {p.email.lower(): p.id for p in chunk}
            ids = {p.id for p in chunk}
            for row in self.session.exec(
                select(Person).where(
                    col(Person.program_id) == program_id,
                    Person.source == "roster",
                    col(Person.key).in_(ids) | func.lower(Person.email).in_(list(emails)),
                )
            ):
                key = row.key if row.key in ids else emails.get(row.email.lower())
                if key is not None and key not in found:
                    found[key] = row
        return found

    @property
    def _created(self) -> bool:
        return self.program is None

    def _person_fields(
        self, wanted: PlanPerson, row: Person | None, roles: set[str]
    ) -> dict[str, Any]:
        """The plan's fields; where the plan names no department or segment, the roster's
        (a person on the roster), else by role (core.roster.effective_segment)."""
        on_roster = row is not None and row.in_roster
        department = self.departments.get(wanted.department) if wanted.department else None
        department_id = department.id if department is not None else None
        if wanted.department is None and on_roster and row is not None:
            department_id = row.department_id
        segment = effective_segment(
            declared=wanted.segment.value if wanted.segment else None,
            roster=row.segment if on_roster and row is not None else None,
            roles=roles,
        )
        return {
            "name": wanted.name,
            "email": wanted.email,
            "chat": wanted.chat,
            "department_id": department_id,
            "segment": segment,
            # The plan's, else email: the roster's choice, kept apart (`roster_notify`),
            # fills in what the plan leaves out when the plan is read (`store.roster_plan`).
            "notify": wanted.effective_notify,
            "source": "plan",
        }

    def _sync_roles(self, program: Program) -> None:
        # The plan's people and the roster people it names in a role, not the whole roster.
        named = sorted(
            {r.person for r in roster_references(self.plan)} - self.plan.people_by_id.keys()
        )
        people = {
            p.key: p
            for p in self.session.exec(
                select(Person).where(
                    col(Person.program_id) == program.id,
                    (col(Person.source) == "plan") | col(Person.key).in_(named),
                )
            )
        }
        department_names = {row.id: name for name, row in self.departments.items()}
        existing: dict[RoleKey, PersonRole] = {}
        # A join, not `person_id IN (...)`: PostgreSQL takes at most 65,535 bound
        # parameters per statement, and a 100,000-person plan is a real plan.
        rows = self.session.exec(
            select(PersonRole, Person.key)
            .join(Person, col(Person.id) == col(PersonRole.person_id))
            .where(col(Person.program_id) == program.id)
        )
        for role, person_key in rows:
            name = department_names.get(role.department_id) if role.department_id else None
            existing[(person_key, role.role, name, role.detail)] = role
        wanted = plan_roles(self.plan, also=people.keys())
        stale = [role.id for key, role in existing.items() if key not in wanted]
        for start in range(0, len(stale), STALE_BATCH):
            chunk = stale[start : start + STALE_BATCH]
            self.session.exec(delete(PersonRole).where(col(PersonRole.id).in_(chunk)))
        for person_key, role_name, department_name, detail in sorted(
            wanted - existing.keys(), key=str
        ):
            person = people[person_key]
            department = self.departments.get(department_name) if department_name else None
            assert person.id is not None
            self.session.add(
                PersonRole(
                    person_id=person.id,
                    role=role_name,
                    department_id=department.id if department is not None else None,
                    detail=detail,
                )
            )
        self.session.flush()


def plan_roles(plan: Plan, *, also: Iterable[str] = ()) -> set[RoleKey]:
    """Every role the plan gives someone, as (person, role, department, detail).

    Declared roles (a person's `roles:`) are program-wide; a department's sponsor,
    champions and support owners are roles in that department (support area in
    `detail`); the program's sponsor and lead have detail 'program'; approvers of an
    approval gate have the gate's name as detail.
    """
    known = {p.id for p in plan.people} | set(also)
    roles: set[RoleKey] = {(p.id, role.value, None, "") for p in plan.people for role in p.roles}
    roles.add((plan.program.sponsor, "sponsor", None, "program"))
    roles.add((plan.program.lead, "lead", None, "program"))
    for department in plan.departments:
        if department.sponsor:
            roles.add((department.sponsor, "sponsor", department.name, ""))
        roles.update((c, "champion", department.name, "") for c in department.champions)
        for area, owner in department.support.model_dump().items():
            if owner:
                roles.add((owner, "support_owner", department.name, area))
    for gate in plan.gates:
        if isinstance(gate, ApprovalGate):
            roles.update((a, "approver", None, gate.name) for a in gate.approvers)
    # `also`: roster people the plan names. Apply refused unknown references already;
    # never fail an apply over a stray one.
    return {role for role in roles if role[0] in known}


def _plan_fields(wanted: PlanDepartment) -> dict[str, Any]:
    return {
        "title": wanted.title,
        "wave": wanted.wave,
        "headcount": wanted.headcount,
        "definition_sha256": definition_sha256(wanted),
    }


def _normalized(plan_json: str) -> dict[str, Any]:
    """The stored plan as the current schema dumps it, so new defaults are not "changes"."""
    data: dict[str, Any] = json.loads(plan_json)
    try:
        return Plan.model_validate(data).model_dump(mode="json")
    except ValueError:  # written by an older schema: compare what is there
        return data


def _state(row: Department) -> str:
    return row.phase if row.status == Status.active.value else f"{row.phase}, {row.status}"


def _note(line: str) -> str:
    if line.startswith("initial_phase "):
        return f"{line} (only used when a department is first applied)"
    return line
