"""Applying a state-machine event to a stored department: version-checked, recorded forever."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from pilotscale.core.phases import DeptState, Event, PhaseMachine
from pilotscale.models import Department, Transition
from pilotscale.store.identity import os_user
from pilotscale.store.snapshot import state_of
from pilotscale.store.versioned import ConcurrentUpdate, update_department, update_departments


def transition(
    *,
    session: Session,
    department: Department,
    machine: PhaseMachine,
    event: Event,
    actor: str,
    reason: str,
    now: datetime,
    run_id: str | None = None,
    target: str | None = None,
    extra: Mapping[str, Any] | None = None,
    identity_source: str = "",
    on_behalf_of: str = "",
    os_user_name: str | None = None,
) -> DeptState:
    """Move `department` by `event` if it is still at the version it was read at.

    Raises TransitionError (the event is not allowed from its state) or
    ConcurrentUpdate (someone changed it since it was read; nothing is written).
    `identity_source` and `on_behalf_of` say how a person's identity is known and whose
    action it was when `actor` acted for them; `os_user_name` replaces this process's OS
    user when the action came from elsewhere (a web request).
    The caller's transaction commits the change and its transition row together.
    """
    after, values, row = prepare_transition(
        department=department,
        machine=machine,
        event=event,
        actor=actor,
        reason=reason,
        now=now,
        run_id=run_id,
        target=target,
        extra=extra,
        identity_source=identity_source,
        on_behalf_of=on_behalf_of,
        os_user_name=os_user_name,
    )
    save_department(session=session, department=department, values=values, now=now)
    session.add(row)
    return after


def prepare_transition(
    *,
    department: Department,
    machine: PhaseMachine,
    event: Event,
    actor: str,
    reason: str,
    now: datetime,
    run_id: str | None = None,
    target: str | None = None,
    extra: Mapping[str, Any] | None = None,
    identity_source: str = "",
    on_behalf_of: str = "",
    os_user_name: str | None = None,
) -> tuple[DeptState, dict[str, Any], Transition]:
    """What `transition` writes, not yet written: the state after, the department's new
    values (its version aside) and the transition row. The readiness check writes those
    of a whole batch of departments in two statements."""
    before = state_of(department)
    after = machine.apply(before, event, target=target, department=department.name)
    values: dict[str, Any] = {"phase": after.phase, "status": after.status.value, **(extra or {})}
    if after.phase != before.phase:
        values["phase_entered_at"] = now
        values["consecutive_failures"] = 0
    if event is Event.start:
        values["started_at"] = now
    if event is Event.resume:
        values["consecutive_failures"] = 0
    row = Transition(
        department_id=department.id or 0,
        from_phase=before.phase,
        from_status=before.status.value,
        to_phase=after.phase,
        to_status=after.status.value,
        event=event.value,
        actor=actor,
        reason=reason,
        at=now,
        run_id=run_id,
        os_user=os_user() if os_user_name is None else os_user_name,
        identity_source=identity_source,
        on_behalf_of=on_behalf_of,
    )
    return after, values, row


def save_department(
    *, session: Session, department: Department, values: Mapping[str, Any], now: datetime
) -> None:
    """Version-checked update that also refreshes the in-memory row (so it can be reused)."""
    if not update_department(
        session=session,
        department_id=department.id or 0,
        expected_version=department.version,
        values=values,
        now=now,
    ):
        raise ConcurrentUpdate(
            f"department '{department.name}' was changed by someone else since it was read "
            f"(version {department.version}); nothing was written — run the command again"
        )
    # What was written, set as loaded (no SELECT to read back what we just wrote).
    written = {**values, "version": department.version + 1, "updated_at": now}
    for name, value in written.items():
        set_committed_value(department, name, value)


def save_departments(
    *, session: Session, changes: Sequence[tuple[Department, Mapping[str, Any]]], now: datetime
) -> None:
    """`save_department` for many departments in few statements; ConcurrentUpdate if any
    of them changed since it was read (the caller's transaction then rolls back whole)."""
    updated = update_departments(
        session=session,
        updates=[(d.id or 0, d.version, values) for d, values in changes],
        now=now,
    )
    if updated != len(changes):
        raise ConcurrentUpdate(
            f"{len(changes) - updated} of {len(changes)} departments were changed by someone "
            "else since they were read; nothing was written"
        )
    for department, values in changes:
        written = {**values, "version": department.version + 1, "updated_at": now}
        for name, value in written.items():
            set_committed_value(department, name, value)
