"""Guarded operation: what a sustained failure of the last phase's monitoring gates does.

The last phase never ends: its gates watch a department that has scaled. When one of them
fails the program's `failure_limit` checks in a row the rollout has regressed, and holding
is not enough (the failures would otherwise only be counted). It is the same gate failing
that many checks in a row, not any gate each time: a different gate failing each week is
noise to hold on, not a trend to roll back for. The owner of each failing gate, the
sponsor and the lead are alerted; with `on_regression: {rollback_to: PHASE}` the department
is also rolled back to that phase automatically, as Argo Rollouts aborts a rollout whose
analysis fails, and otherwise blocked until someone resumes it. The transition records the
results that caused it, so `history` and `explain` say why without the gate rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pilotscale.core.gates import GateResult, PhaseVerdict
from pilotscale.core.phases import DeptState, PhaseMachine
from pilotscale.core.states import Outcome
from pilotscale.plan.schema import Plan

# How a transition's reason starts when a regression caused it (explain looks for it).
REGRESSED = "monitoring regressed"


def is_monitored(machine: PhaseMachine, state: DeptState) -> bool:
    """In the last phase: its gates monitor rather than hold."""
    return state.phase == machine.final


def rollback_target(plan: Plan, machine: PhaseMachine, state: DeptState) -> str | None:
    """The phase the plan rolls a regressed department back to; None: block it instead.

    A target the plan check would refuse (not earlier than the last phase) gives None, so a
    plan loaded without its cross-checks still blocks rather than failing the whole check.
    """
    if not is_monitored(machine, state):
        return None
    phase = next((p for p in plan.phases if p.name == state.phase), None)
    if phase is None or phase.on_regression is None:
        return None
    target = phase.on_regression.rollback_to
    return target if target in machine.rollback_targets(state) else None


def gate_streaks(
    recorded: Mapping[str, int], verdict: PhaseVerdict, *, at_most: int
) -> dict[str, int]:
    """Per gate failing in `verdict`, its checks in a row failing, this one included:
    `recorded` holds the earlier checks' (a pending result in between neither counted nor
    ended them). An advisory or waived gate never regresses, so it has no streak.

    `at_most` is the department's own run of failing checks after this one, which no
    gate's can exceed unless something reset it: a lead resuming the department starts
    every gate's count afresh, as it starts the department's."""
    return {
        r.gate: min(recorded.get(r.gate, 0) + 1, at_most)
        for r in verdict.results
        if r.outcome is Outcome.failed
        and r.gate not in verdict.advisory
        and r.gate not in verdict.waived
    }


def regressed_gates(
    recorded: Mapping[str, int], verdict: PhaseVerdict, limit: int, *, at_most: int
) -> list[str]:
    """The gates, in the phase's order, that have failed `limit` checks in a row."""
    streaks = gate_streaks(recorded, verdict, at_most=at_most)
    return [g for g, n in streaks.items() if n >= limit]


def regression_reason(
    results: Iterable[GateResult], *, failures: int, limit: int, rolled_back_to: str | None
) -> str:
    """One line with the failing results: what the transition row and the alert say."""
    failing = [r for r in results if r.outcome is Outcome.failed]
    shown = "; ".join(f"{r.gate}: {r.observed_text}, needs {r.threshold_text}" for r in failing)
    then = (
        f"rolled back to '{rolled_back_to}' (on_regression)"
        if rolled_back_to
        else "blocked (no on_regression in the plan)"
    )
    return (
        f"{REGRESSED}: {failures} consecutive failing checks (limit {limit}), {then}: "
        f"{shown or 'no failing gate recorded'}"
    )
