"""What readiness checks committed, read back from the store.

An attempt of a check can die after some of its transactions committed (a lost
connection, a killed process). Its retry, and any later run of the same check, take
what was done from these rows, never from the attempt that raised: the retry counts
its own earlier commits as its own, and every transition gets its event.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, union
from sqlmodel import Session

from pilotscale.core.phases import DeptState, Event
from pilotscale.core.regression import REGRESSED
from pilotscale.core.states import Outcome, Status
from pilotscale.models import Department, GateResultRecord, Transition
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of, table_of

# Only readiness checks advance or block a department; people pause, resume, roll back,
# and so does a check, when the last phase's monitoring regressed (its reason says so).
CHECK_EVENTS = (Event.advance.value, Event.block.value)


def committed_by_run(
    *, session: Session, run_id: str | None, at: datetime, department_ids: Collection[int]
) -> set[int]:
    """Which of `department_ids` the run `run_id`, checking as of `at`, already wrote:
    a transition, or gate results (a check writes a department's gate results in the
    transaction that changes the department). Without a run id: what a check as of the
    very same `at` wrote without one (an earlier attempt of the same apply, in practice)."""
    if not department_ids:
        return set()
    t, g = columns_of(Transition), columns_of(GateResultRecord)
    ids = list(department_ids)
    by_t = t.run_id == run_id if run_id is not None else t.run_id.is_(None)
    by_g = g.run_id == run_id if run_id is not None else g.run_id.is_(None)
    query = union(
        select(t.department_id).where(id_in(session, t.department_id, ids), by_t, t.at == at),
        select(g.department_id).where(
            id_in(session, g.department_id, ids), by_g, g.evaluated_at == at
        ),
    )
    return {department_id for (department_id,) in session.execute(query)}


@dataclass(frozen=True)
class HeldBy:
    """A gate that was not passing when a check moved the department."""

    gate: str
    kind: str
    outcome: str
    reason: str


@dataclass(frozen=True)
class CheckTransition:
    """An advance or a block, as the store recorded it."""

    id: int
    department: str
    event: Event
    before: DeptState
    after: DeptState
    reason: str
    at: datetime
    run_id: str | None
    # The department's count now, if nothing moved it since (else it is not this one's).
    failures: int | None
    holding: tuple[HeldBy, ...]


def check_transitions(
    *, session: Session, program_id: int, start: datetime, end: datetime, check_key: str
) -> list[CheckTransition]:
    """Every advance and block of the program's departments at `start` <= at < `end`
    (the check's day), with the gates of the check `check_key` that were not passing
    at the time: three queries, whatever the number of departments."""
    t, d = columns_of(Transition), columns_of(Department)
    rows = session.execute(
        select(
            t.id,
            d.name,
            t.department_id,
            t.event,
            t.from_phase,
            t.from_status,
            t.to_phase,
            t.to_status,
            t.reason,
            t.at,
            t.run_id,
            d.consecutive_failures,
        )
        .join(table_of(Department), d.id == t.department_id)
        .where(
            d.program_id == program_id,
            or_(
                t.event.in_(CHECK_EVENTS),
                and_(t.event == Event.rollback.value, t.reason.startswith(REGRESSED)),
            ),
            t.at >= start,
            t.at < end,
        )
        .order_by(t.id),
    ).all()
    if not rows:
        return []
    departments = {row.department_id for row in rows}
    latest: dict[int, int] = {
        department_id: last
        for department_id, last in session.execute(
            select(t.department_id, func.max(t.id))
            .where(id_in(session, t.department_id, departments))
            .group_by(t.department_id)
        )
    }
    outcomes = _gate_outcomes(session=session, department_ids=departments, check_key=check_key)
    return [
        CheckTransition(
            id=row.id,
            department=row.name,
            event=Event(row.event),
            before=DeptState(row.from_phase or "", Status(row.from_status or "active")),
            after=DeptState(row.to_phase, Status(row.to_status)),
            reason=row.reason,
            at=row.at,
            run_id=row.run_id,
            failures=row.consecutive_failures if latest[row.department_id] == row.id else None,
            holding=_holding(outcomes.get((row.department_id, row.from_phase), []), row.at),
        )
        for row in rows
    ]


_Outcome = tuple[datetime, str, HeldBy]


def _gate_outcomes(
    *, session: Session, department_ids: Collection[int], check_key: str
) -> dict[tuple[int, str], list[_Outcome]]:
    """The check's gate results, per (department id, phase): (evaluated at, gate, result)."""
    g = columns_of(GateResultRecord)
    rows = session.execute(
        select(g.department_id, g.phase, g.gate, g.kind, g.outcome, g.reason, g.evaluated_at)
        .where(id_in(session, g.department_id, department_ids), g.check_key == check_key)
        .order_by(g.id)  # the order the check evaluated them in
    ).all()
    out: dict[tuple[int, str], list[_Outcome]] = {}
    for row in rows:
        held = HeldBy(row.gate, row.kind, row.outcome, row.reason)
        out.setdefault((row.department_id, row.phase), []).append(
            (row.evaluated_at, row.gate, held)
        )
    return out


def _holding(outcomes: list[_Outcome], at: datetime) -> tuple[HeldBy, ...]:
    """Each gate's latest result at `at` (a result the same as an earlier one of the
    same check is not stored again), those that did not pass."""
    latest: dict[str, tuple[datetime, HeldBy]] = {}
    for evaluated_at, gate, held in outcomes:
        if evaluated_at <= at and (gate not in latest or latest[gate][0] < evaluated_at):
            latest[gate] = (evaluated_at, held)
    return tuple(held for _, held in latest.values() if held.outcome != Outcome.passed)
