"""core.stuck, table-driven: which pending gates count, and when they are stuck."""

from __future__ import annotations

import pytest

from pilotscale.core.gates import GateResult, PhaseVerdict
from pilotscale.core.states import Outcome
from pilotscale.core.stuck import pending_checks, stuck_gates
from pilotscale.plan.schema import Plan
from tests.plans import loaded, plan_dict

P, F, OK = Outcome.pending, Outcome.failed, Outcome.passed


def _verdict(*results: tuple[str, str, Outcome]) -> PhaseVerdict:
    rows = tuple(GateResult(g, kind, o, None, "", "", "") for g, kind, o in results)
    overall = P if any(r.outcome is P for r in rows) else OK
    return PhaseVerdict(overall, rows)


@pytest.mark.parametrize(
    ("results", "recorded", "counting", "expected"),
    [
        # the check in progress counts itself; a read-only view does not
        ([("a", "metric", P)], {"a": 2}, True, {"a": 3}),
        ([("a", "metric", P)], {"a": 2}, False, {"a": 2}),
        # never recorded before: this check is the first
        ([("a", "attestation", P)], {}, True, {"a": 1}),
        # a gate that passes or fails now is not pending, whatever was recorded
        ([("a", "metric", OK), ("b", "metric", F)], {"a": 5, "b": 5}, True, {}),
        # time passing is nobody's to unstick
        ([("soak", "soak", P)], {"soak": 9}, True, {}),
    ],
)
def test_pending_checks(
    results: list[tuple[str, str, Outcome]],
    recorded: dict[str, int],
    counting: bool,
    expected: dict[str, int],
) -> None:
    assert pending_checks(_verdict(*results), recorded, counting_this_check=counting) == expected


def _plan(program_limit: int | None, gate_limits: dict[str, int]) -> Plan:
    data = plan_dict(1)
    if program_limit is not None:
        data["program"]["pending_limit"] = program_limit
    for gate in data["gates"]:
        if gate["name"] in gate_limits:
            gate["pending_limit"] = gate_limits[gate["name"]]
    return loaded(data).plan


@pytest.mark.parametrize(
    ("program_limit", "gate_limits", "checks", "expected"),
    [
        (None, {}, {"go-ahead": 2}, {}),  # the default limit is 3
        (None, {}, {"go-ahead": 3}, {"go-ahead": 3}),
        (None, {}, {"go-ahead": 7}, {"go-ahead": 7}),
        (1, {}, {"go-ahead": 1, "guardrails": 1}, {"go-ahead": 1, "guardrails": 1}),
        (5, {"go-ahead": 2}, {"go-ahead": 2, "guardrails": 2}, {"go-ahead": 2}),  # gate wins
    ],
)
def test_stuck_gates_use_the_gate_limit_then_the_programs(
    program_limit: int | None,
    gate_limits: dict[str, int],
    checks: dict[str, int],
    expected: dict[str, int],
) -> None:
    assert stuck_gates(_plan(program_limit, gate_limits), checks) == expected
