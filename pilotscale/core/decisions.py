"""What a readiness check decides for one department: advance, hold, block, or skip.

Pure: the store supplies the department's state, its facts and the clock; the
caller applies the decision (one transaction) and sends the messages it implies.

Idempotence lives here too. A check is identified by its `check_key` (the check's
day in the program's time zone): running the same check twice counts a failure
once, so a retried or re-run check never blocks a department early, and a department
the check already advanced is left alone until the next check, so a re-run neither
advances it twice nor holds it on the day it entered its new phase.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pilotscale.core.facts import DepartmentFacts
from pilotscale.core.gates import AnyGate, GateResult, PhaseVerdict, evaluate_phase, phase_gates
from pilotscale.core.phases import DeptState, Event, PhaseMachine
from pilotscale.core.regression import (
    gate_streaks,
    is_monitored,
    regressed_gates,
    regression_reason,
    rollback_target,
)
from pilotscale.core.states import Outcome
from pilotscale.plan.overrides import apply_override
from pilotscale.plan.schema import Plan


class Action(StrEnum):
    advance = "advance"  # every gate passed: move to the next phase
    hold = "hold"  # some gate failed or is pending: stay, tell the owners
    block = "block"  # failure_limit consecutive failing checks: block, escalate
    monitor = "monitor"  # final phase, every monitoring gate passes
    # final phase, failure_limit failing checks and the plan's on_regression: roll back
    rollback = "rollback"
    skip = "skip"  # not evaluated (not started, paused, blocked, aborted, ...)


@dataclass(frozen=True)
class DepartmentSnapshot:
    """The stored state of a department that a check reads besides its facts."""

    name: str
    state: DeptState
    consecutive_failures: int = 0
    last_check_key: str | None = None
    # The check that advanced it into its current phase; None if it got there otherwise.
    entered_by_check: str | None = None
    # In the last phase: per gate, the earlier checks in a row of this visit that found it
    # failing (store.pending_streaks.failing_streaks); what regresses it is one gate's run.
    gate_failures: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    department: str
    action: Action
    before: DeptState
    after: DeptState
    verdict: PhaseVerdict | None
    consecutive_failures: int
    reason: str

    @property
    def changes_phase(self) -> bool:
        return self.before != self.after


def gates_for(plan: Plan, phase: str, department: str | None = None) -> list[AnyGate]:
    """The gates of `phase`; with `department`, with its own numbers (gate_overrides)."""
    # A plan read without its departments (a caller that only decides) has no overrides.
    spec = plan.departments_by_name.get(department) if department is not None else None
    overrides = spec.gate_overrides if spec is not None else {}
    gates_by_name: Mapping[str, AnyGate] = {
        g.name: apply_override(g, overrides.get(g.name)) for g in plan.gates
    }
    return phase_gates(plan.phase(phase), gates_by_name)


def decide(
    *,
    plan: Plan,
    machine: PhaseMachine,
    snapshot: DepartmentSnapshot,
    facts: DepartmentFacts | None,
    now: datetime,
    check_key: str,
    owner_names: Mapping[str, str] | None = None,
    verdict: PhaseVerdict | None = None,
) -> Decision:
    """`verdict`, when the caller has read it already (`engine.verdicts`), is the
    department's verdict on `facts`; otherwise it is evaluated here."""
    state = snapshot.state
    if not machine.is_evaluated(state) or facts is None:
        why = "not started yet" if not machine.is_started(state) else f"it is {state.status}"
        return Decision(
            department=snapshot.name,
            action=Action.skip,
            before=state,
            after=state,
            verdict=None,
            consecutive_failures=snapshot.consecutive_failures,
            reason=f"skipped: {why}",
        )

    if snapshot.entered_by_check == check_key:
        return Decision(
            department=snapshot.name,
            action=Action.skip,
            before=state,
            after=state,
            verdict=None,
            consecutive_failures=snapshot.consecutive_failures,
            reason=f"skipped: this check ({check_key}) already advanced it to '{state.phase}'",
        )

    if verdict is None:
        verdict = evaluate_phase(
            gates_for(plan, state.phase, snapshot.name), facts, now=now, owner_names=owner_names
        )
    failures = _failures_after(snapshot, verdict, check_key)
    final = state.phase == machine.final

    if verdict.outcome is Outcome.passed:
        if final:
            return _decision(
                snapshot, Action.monitor, state, verdict, 0, "all monitoring gates pass"
            )
        after = machine.apply(state, Event.advance, department=snapshot.name)
        return _decision(
            snapshot, Action.advance, after, verdict, 0, f"all gates of '{state.phase}' pass"
        )

    summary = holding_summary(verdict)
    limit = plan.program.failure_limit
    if verdict.outcome is Outcome.failed and is_monitored(machine, state):
        return _regression(plan, machine, snapshot, verdict, failures) or _decision(
            snapshot, Action.hold, state, verdict, failures, summary
        )
    if verdict.outcome is Outcome.failed and failures >= limit:
        after = machine.apply(state, Event.block, department=snapshot.name)
        reason = f"{failures} consecutive failing checks (limit {limit}): {summary}"
        return _decision(snapshot, Action.block, after, verdict, failures, reason)
    return _decision(snapshot, Action.hold, state, verdict, failures, summary)


def _regression(
    plan: Plan,
    machine: PhaseMachine,
    snapshot: DepartmentSnapshot,
    verdict: PhaseVerdict,
    failures: int,
) -> Decision | None:
    """Roll back (or block) a department of the last phase one of whose gates failed
    `failure_limit` checks in a row; None while no single gate has. The reason names the
    regressed gates and their results; its count (the alert's) is the longest run among them."""
    state, limit = snapshot.state, plan.program.failure_limit
    streaks = gate_streaks(snapshot.gate_failures, verdict, at_most=failures)
    regressed = regressed_gates(snapshot.gate_failures, verdict, limit, at_most=failures)
    if not regressed:
        return None
    run = max(streaks[g] for g in regressed)
    results = [r for r in verdict.results if r.gate in regressed]
    target = rollback_target(plan, machine, state)
    reason = regression_reason(results, failures=run, limit=limit, rolled_back_to=target)
    if target is not None:
        after = machine.apply(state, Event.rollback, target=target, department=snapshot.name)
        return _decision(snapshot, Action.rollback, after, verdict, run, reason)
    after = machine.apply(state, Event.block, department=snapshot.name)
    return _decision(snapshot, Action.block, after, verdict, run, reason)


def _failures_after(snapshot: DepartmentSnapshot, verdict: PhaseVerdict, check_key: str) -> int:
    """Consecutive failing checks after this one. Pending neither counts nor resets: a
    gate waiting for data is not a failure, but it is not a success either."""
    if verdict.outcome is Outcome.passed:
        return 0
    if verdict.outcome is Outcome.pending:
        return snapshot.consecutive_failures
    if snapshot.last_check_key == check_key:
        return snapshot.consecutive_failures  # the same check again: already counted
    return snapshot.consecutive_failures + 1


def holding_summary(verdict: PhaseVerdict) -> str:
    """Why a verdict holds, e.g. "failing: a, b; pending: c"; empty when it passes."""

    def named(r: GateResult) -> str:
        return f"{r.gate} (advisory)" if r.gate in verdict.advisory else r.gate

    failed = [named(r) for r in verdict.results if r.outcome is Outcome.failed]
    pending = [named(r) for r in verdict.results if r.outcome is Outcome.pending]
    parts = []
    if failed:
        parts.append("failing: " + ", ".join(failed))
    if pending:
        parts.append("pending: " + ", ".join(pending))
    return "; ".join(parts)


def _decision(
    snapshot: DepartmentSnapshot,
    action: Action,
    after: DeptState,
    verdict: PhaseVerdict,
    failures: int,
    reason: str,
) -> Decision:
    return Decision(
        department=snapshot.name,
        action=action,
        before=snapshot.state,
        after=after,
        verdict=verdict,
        consecutive_failures=failures,
        reason=reason,
    )


def phase_counts(decisions: Sequence[Decision], order: Sequence[str]) -> dict[str, int]:
    """How many departments are in each phase after the decisions, in the plan's `order`
    (a phase no longer in the plan last); phases nobody is in are left out. A department
    counts in its phase whatever its status (paused, blocked): it is in that phase."""
    tally: dict[str, int] = {}
    for d in decisions:
        tally[d.after.phase] = tally.get(d.after.phase, 0) + 1
    rank = {name: i for i, name in enumerate(order)}
    return dict(sorted(tally.items(), key=lambda item: rank.get(item[0], len(rank))))


def counts(decisions: Sequence[Decision]) -> dict[Action, int]:
    """How many departments got each action, for run names and summaries."""
    tally = dict.fromkeys(Action, 0)
    for d in decisions:
        tally[d.action] += 1
    return tally
