"""When a pending gate is stuck: pending at too many readiness checks in a row.

A gate that stays pending (nobody attested, no data arrives, an approver never answers)
would otherwise hold a department forever with only its owner being reminded. After the
plan's `pending_limit` consecutive checks in one visit to the phase it is stuck: shown as
such everywhere, and its department's sponsor and the program lead are told once.
"""

from __future__ import annotations

from collections.abc import Mapping

from pilotscale.core.gates import PhaseVerdict
from pilotscale.core.states import Outcome
from pilotscale.plan.schema import Plan

# Time passing is not something a person can unstick: a soak gate waits by design.
NEVER_STUCK = frozenset({"soak"})


def pending_limit(plan: Plan, gate: str) -> int:
    spec = next((g for g in plan.gates if g.name == gate), None)
    if spec is not None and spec.pending_limit is not None:
        return spec.pending_limit
    return plan.program.pending_limit


def pending_checks(
    verdict: PhaseVerdict, recorded: Mapping[str, int], *, counting_this_check: bool
) -> dict[str, int]:
    """Gate -> consecutive checks it has been pending, for each gate pending now.

    `recorded`: gate -> consecutive pending outcomes the store holds for this visit, the
    latest check first (excluding the check in progress). A readiness check in progress
    counts itself (`counting_this_check`); a read-only view (status, the report) shows
    what the last recorded checks say, as long as the gate is still pending now.
    """
    out: dict[str, int] = {}
    for result in verdict.results:
        if result.outcome is not Outcome.pending or result.kind in NEVER_STUCK:
            continue
        if result.gate in verdict.advisory:
            continue  # it holds nothing, so nothing is stuck behind it
        out[result.gate] = recorded.get(result.gate, 0) + (1 if counting_this_check else 0)
    return out


def stuck_gates(plan: Plan, checks: Mapping[str, int]) -> dict[str, int]:
    """The gates of `checks` (from `pending_checks`) at or past their pending limit."""
    return {g: n for g, n in checks.items() if n >= pending_limit(plan, g)}
