"""How many readiness checks in a row each gate has been pending, or failing, in the
current visit: what makes a gate stuck (pending) and what regresses a monitored department
(the same gate failing `failure_limit` checks in a row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session

from pilotscale.models import GateResultRecord
from pilotscale.store.fact_queries import DepartmentRef
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def pending_streaks(
    *,
    session: Session,
    departments: Sequence[DepartmentRef],
    exclude_check: str | None = None,
) -> dict[str, dict[str, int]]:
    """Department name -> gate -> consecutive recorded checks, latest first, whose result
    for the gate was pending, within the department's current visit to its phase.

    One query for all departments. `exclude_check` leaves out the check in progress (a
    re-run of the same check must count the same). A check that recorded the gate as
    pending and then, re-run with new data, as passed, counts by its latest result.
    """
    return _streaks(session, departments, exclude_check, counts="pending", skips=None)


def failing_streaks(
    *,
    session: Session,
    departments: Sequence[DepartmentRef],
    exclude_check: str | None = None,
) -> dict[str, dict[str, int]]:
    """As `pending_streaks`, for failing results: department name -> gate -> consecutive
    recorded checks, latest first, that found the gate failing. A pending result neither
    counts nor ends the streak (no data is not a success), as for the department's own
    count; a pass ends it."""
    return _streaks(session, departments, exclude_check, counts="fail", skips="pending")


def _streaks(
    session: Session,
    departments: Sequence[DepartmentRef],
    exclude_check: str | None,
    *,
    counts: str,
    skips: str | None,
) -> dict[str, dict[str, int]]:
    if not departments:
        return {}
    g = columns_of(GateResultRecord)
    by_id = {d.id: d for d in departments}
    # The visit's bounds narrow the rows in SQL by the earliest visit; each department's
    # own visit (its phase, since it entered it) is applied below, as one OR per
    # department would make a statement thousands of terms long.
    query = select(g.department_id, g.phase, g.gate, g.check_key, g.outcome, g.evaluated_at).where(
        id_in(session, g.department_id, by_id),
        g.evaluated_at >= min(d.phase_entered_at for d in departments),
    )
    if exclude_check is not None:
        query = query.where(g.check_key != exclude_check)
    # Each (department, gate, check) by its latest result.
    latest: dict[tuple[int, str, str], tuple[datetime, str]] = {}
    for dept_id, phase, gate, check, outcome, at in session.execute(query):
        dept = by_id[dept_id]
        if phase != dept.phase or _aware(at) < _aware(dept.phase_entered_at):
            continue
        key = (dept_id, gate, check)
        seen = latest.get(key)
        if seen is None or _aware(at) > seen[0]:
            latest[key] = (_aware(at), outcome)
    checks: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for (dept_id, gate, check), (_, outcome) in latest.items():
        checks.setdefault((dept_id, gate), []).append((check, outcome))
    out: dict[str, dict[str, int]] = {}
    for (dept_id, gate), results in checks.items():
        streak = 0
        # Check keys are the check's ISO day: their order is time order.
        for _, outcome in sorted(results, reverse=True):
            if outcome == skips:
                continue
            if outcome != counts:
                break
            streak += 1
        if streak:
            out.setdefault(by_id[dept_id].name, {})[gate] = streak
    return out
