"""What a readiness check announces: each advance and block of its day, as the store
recorded it, and each department this run held.

Transitions come from the store, not from the attempt that applied them: a check
whose attempt died after some of its batches committed is retried, and the retry
announces those departments too; a later run of the same check announces again any
that never reached Prefect. Each announcement has a key of its own (a transition's
is its row id), from which the Prefect event id is derived, so the server keeps one.
"""

from __future__ import annotations

from dataclasses import dataclass

from pilotscale.core.decisions import Action, Decision
from pilotscale.core.phases import DeptState, Event
from pilotscale.engine.check import CheckReport
from pilotscale.store.committed import CheckTransition, HeldBy


@dataclass(frozen=True)
class Announcement:
    department: str
    action: Action  # advance, block, rollback (a regression) or hold
    before: DeptState
    after: DeptState
    reason: str
    consecutive_failures: int | None  # None: moved since, the count is no longer its own
    holding: tuple[HeldBy, ...]
    key: str  # the same announcement has the same key in every run of the check


_ACTIONS = {
    Event.advance: Action.advance,
    Event.block: Action.block,
    Event.rollback: Action.rollback,
}


def announcements(report: CheckReport) -> list[Announcement]:
    """One per transition of the check's day among its departments, then one per
    department this run held."""
    applied = report.applied()
    by_department = {d.department: d for d in applied}
    out = [_of_transition(report, t, by_department.get(t.department)) for t in report.transitions]
    out += [
        _of_decision(d, key=f"{report.check_key}|held|{d.before}|{d.after}")
        for d in applied
        if d.action is Action.hold
    ]
    return out


def _of_transition(
    report: CheckReport, transition: CheckTransition, decision: Decision | None
) -> Announcement:
    key = f"transition|{transition.id}|{transition.at.isoformat()}"
    action = _ACTIONS[transition.event]
    if (
        decision is not None
        and transition.run_id == report.run_id
        and transition.at == report.as_of
        and (decision.action, decision.before, decision.after)
        == (action, transition.before, transition.after)
    ):
        # This run's own: its decision still has every gate's result as it was seen.
        return _of_decision(decision, key=key)
    return Announcement(
        department=transition.department,
        action=action,
        before=transition.before,
        after=transition.after,
        reason=transition.reason,
        # An advance starts the next phase with no failures counted.
        consecutive_failures=0 if action is Action.advance else transition.failures,
        holding=transition.holding,
        key=key,
    )


def _of_decision(decision: Decision, *, key: str) -> Announcement:
    holding = decision.verdict.holding if decision.verdict is not None else ()
    return Announcement(
        department=decision.department,
        action=decision.action,
        before=decision.before,
        after=decision.after,
        reason=decision.reason,
        consecutive_failures=decision.consecutive_failures,
        holding=tuple(HeldBy(r.gate, r.kind, str(r.outcome), r.reason) for r in holding),
        key=key,
    )
