from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotscale.core.facts import (
    ApprovalFact,
    AttestationFact,
    ChampionFact,
    DepartmentFacts,
    MetricAggregate,
    TrainingFact,
    metric_key,
)
from pilotscale.core.gates import (
    AnyGate,
    evaluate_gate,
    evaluate_phase,
    metric_windows,
    phase_gates,
)
from pilotscale.core.states import Outcome
from pilotscale.plan.schema import (
    ApprovalGate,
    AttestationGate,
    ChampionCoverageGate,
    MetricGate,
    Phase,
    SoakGate,
    SupportCoverageGate,
    TrainingGate,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASS, FAIL, PENDING = Outcome.passed, Outcome.failed, Outcome.pending


def facts(**overrides: Any) -> DepartmentFacts:
    base: dict[str, Any] = {"department": "hr", "phase_entered_at": NOW - timedelta(days=1)}
    return DepartmentFacts(**(base | overrides))


def metric_gate(**overrides: Any) -> MetricGate:
    base: dict[str, Any] = {
        "name": "weekly-active",
        "kind": "metric",
        "title": "People use it every week",
        "owner": "ana",
        "metric": "weekly_active_rate",
        "window": "7d",
        "threshold": 0.6,
        "min_samples": 5,
    }
    return MetricGate.model_validate(base | overrides)


def with_metric(agg: MetricAggregate, window: timedelta = timedelta(days=7)) -> DepartmentFacts:
    return facts(metrics={metric_key("weekly_active_rate", window): agg})


def avg_of(value: float, count: int) -> MetricAggregate:
    return MetricAggregate(
        count=count,
        total=value * count,
        minimum=value,
        maximum=value,
        last_value=value,
    )


# --------------------------------------------------------------------------- metric

METRIC_CASES = [
    # (gate overrides, facts, outcome, fragment of the reason)
    (
        {},
        facts(),
        PENDING,
        "no weekly active rate data in the last 1w (needs 5 samples): ask ana to send data",
    ),
    ({}, with_metric(MetricAggregate(count=0)), PENDING, "no weekly active rate data"),
    (
        {},
        with_metric(avg_of(0.9, 4)),  # min_samples - 1, even though the value is good
        PENDING,
        "only 4 samples of weekly active rate in the last 1w, needs at least 5: "
        "ask ana to send more data",
    ),
    ({}, with_metric(avg_of(0.6, 5)), PASS, "weekly active rate is 0.60 over the last 1w"),
    ({}, with_metric(avg_of(0.59, 5)), FAIL, "is 0.59 over the last 1w (5 samples), needs >= 0.60"),
    # Different values never print the same: 0.599 is not shown as 0.60.
    (
        {},
        with_metric(avg_of(0.599, 5)),
        FAIL,
        "is 0.599 over the last 1w (5 samples), needs >= 0.600",
    ),
    # Floating-point noise at the threshold is not a failure.
    (
        {"threshold": 0.1},
        with_metric(MetricAggregate.of([(NOW, 0.1)] * 10)),
        PASS,
        "meets >= 0.10",
    ),
    ({"op": ">"}, with_metric(avg_of(0.6, 5)), FAIL, "needs > 0.60"),
    ({"op": ">"}, with_metric(avg_of(0.61, 5)), PASS, "meets > 0.60"),
    ({"op": "<="}, with_metric(avg_of(0.6, 5)), PASS, "meets <= 0.60"),
    ({"op": "<="}, with_metric(avg_of(0.61, 5)), FAIL, "needs <= 0.60"),
    ({"op": "<"}, with_metric(avg_of(0.6, 5)), FAIL, "needs < 0.60"),
    ({"op": "<"}, with_metric(avg_of(0.2, 5)), PASS, "meets < 0.60"),
    (
        {"aggregate": "sum", "threshold": 200, "min_samples": 1},
        with_metric(MetricAggregate(4, 199.5, 10, 90, 50)),
        FAIL,
        "total weekly active rate is 199.50 over the last 1w (4 samples), needs >= 200",
    ),
    (
        {"aggregate": "min", "threshold": 10, "min_samples": 1},
        with_metric(MetricAggregate(4, 199.5, 10, 90, 50)),
        PASS,
        "lowest weekly active rate is 10",
    ),
    (
        {"aggregate": "max", "threshold": 91, "min_samples": 1},
        with_metric(MetricAggregate(4, 199.5, 10, 90, 50)),
        FAIL,
        "highest weekly active rate is 90",
    ),
    (
        {"aggregate": "last", "threshold": 50, "min_samples": 1},
        with_metric(MetricAggregate(4, 199.5, 10, 90, 50)),
        PASS,
        "latest weekly active rate is 50",
    ),
    (
        {"aggregate": "count", "threshold": 4, "min_samples": 1},
        with_metric(MetricAggregate(4, 199.5, 10, 90, 50)),
        PASS,
        "number of samples of weekly active rate is 4",
    ),
    (
        {"how_to_fix": "run adoption clinics"},
        with_metric(avg_of(0.42, 12)),
        FAIL,
        "needs >= 0.60: run adoption clinics",
    ),
    ({}, with_metric(avg_of(0.42, 12)), FAIL, "needs >= 0.60: ask ana to act on it"),
    # A window the store aggregated for another gate is not this gate's window.
    ({}, with_metric(avg_of(0.9, 50), window=timedelta(days=14)), PENDING, "no weekly active"),
    # A failing source holds the gate even when earlier samples would pass it.
    (
        {},
        facts(
            metrics={metric_key("weekly_active_rate", timedelta(days=7)): avg_of(0.9, 50)},
            metric_errors={"weekly_active_rate": "HTTP 503 from analytics"},
        ),
        PENDING,
        "could not read weekly active rate: HTTP 503 from analytics; "
        "check the source of metric 'weekly_active_rate'",
    ),
    # Stored values outside the metric's range are left out of the figures, and said so.
    (
        {},
        with_metric(MetricAggregate(0, outside=25)),
        PENDING,
        "no weekly active rate data in the last 1w (needs 5 samples; 25 observations outside "
        "the metric's range left out): ask ana to send data",
    ),
    (
        {},
        with_metric(replace(avg_of(0.7, 5), outside=1)),
        PASS,
        "weekly active rate is 0.70 over the last 1w (5 samples; 1 observation outside the "
        "metric's range left out), meets >= 0.60",
    ),
    (
        {},
        with_metric(replace(avg_of(0.7, 2), outside=3)),
        PENDING,
        "needs at least 5; 3 observations outside the metric's range left out: ask ana",
    ),
    # A figure that is not a finite number decides nothing (25 rows of 1e308 summed to inf).
    (
        {},
        with_metric(MetricAggregate(25, math.inf, 1e308, 1e308, 1e308)),
        PENDING,
        "weekly active rate over the last 1w is not a finite number",
    ),
    (
        {"aggregate": "max", "op": "<"},
        with_metric(MetricAggregate(5, math.nan, 0.1, math.nan, 0.1)),
        PENDING,
        "highest weekly active rate over the last 1w is not a finite number",
    ),
]


@pytest.mark.parametrize(("overrides", "snapshot", "outcome", "reason"), METRIC_CASES)
def test_metric_gate(
    overrides: dict[str, Any], snapshot: DepartmentFacts, outcome: Outcome, reason: str
) -> None:
    result = evaluate_gate(metric_gate(**overrides), snapshot, now=NOW)
    assert (result.outcome, result.gate, result.kind) == (outcome, "weekly-active", "metric")
    assert reason in result.reason


def test_a_figure_that_is_not_finite_is_never_shown_as_observed() -> None:
    # `status --json` prints `observed`: Infinity there is not JSON.
    result = evaluate_gate(metric_gate(), with_metric(avg_of(math.inf, 25)), now=NOW)
    assert (result.outcome, result.observed) == (PENDING, None)


def test_metric_reason_is_one_actionable_sentence_with_value_and_threshold() -> None:
    gate = metric_gate(window="2w", how_to_fix="run adoption clinics")
    snapshot = with_metric(avg_of(0.42, 12), window=timedelta(weeks=2))
    result = evaluate_gate(gate, snapshot, now=NOW, owner_name="Ana Ruiz")
    assert result.reason == (
        "weekly active rate is 0.42 over the last 2w (12 samples), "
        "needs >= 0.60: run adoption clinics"
    )
    assert result.observed == pytest.approx(0.42)
    assert result.observed_text == "0.42 (12 samples)"
    assert result.threshold_text == ">= 0.60 over 2w, at least 5 samples"


def test_metric_names_the_owner_when_given() -> None:
    result = evaluate_gate(metric_gate(), facts(), now=NOW, owner_name="Ana Ruiz")
    assert result.reason.endswith("ask Ana Ruiz to send data")
    assert result.observed is None
    assert result.observed_text == "no data"


# --------------------------------------------------------------------------- attestation


def attestation_gate(**overrides: Any) -> AttestationGate:
    base: dict[str, Any] = {
        "name": "guardrails",
        "kind": "attestation",
        "title": "Guardrails in place",
        "owner": "compliance",
        "checklist": "Access rules reviewed",
    }
    return AttestationGate.model_validate(base | overrides)


def attested(
    evidence: str = "https://wiki/x",
    at: datetime = NOW - timedelta(days=1),
    expires_at: datetime | None = None,
) -> DepartmentFacts:
    fact = AttestationFact(by="carla", evidence=evidence, attested_at=at, expires_at=expires_at)
    return facts(attestations={"guardrails": fact})


ATTESTATION_CASES = [
    ({}, facts(), PENDING, "not attested yet: ask compliance to attest: Access rules reviewed"),
    (
        {"how_to_fix": "review with legal first"},
        facts(),
        PENDING,
        "ask compliance to attest: Access rules reviewed; review with legal first",
    ),
    ({}, attested(), PASS, "attested by carla on 2026-03-01"),
    ({}, attested(expires_at=NOW), PENDING, "the attestation by carla expired on 2026-03-02"),
    ({}, attested(expires_at=NOW + timedelta(seconds=1)), PASS, "valid until 2026-03-02"),
    (
        {"expires_after": "30d"},
        attested(at=NOW - timedelta(days=30)),
        PENDING,
        "expired on 2026-03-02: ask compliance to re-attest: Access rules reviewed",
    ),
    (
        {"expires_after": "30d"},
        attested(at=NOW - timedelta(days=30) + timedelta(seconds=1)),
        PASS,
        "valid until 2026-03-02",
    ),
    # Tightening expires_after in the plan reaches attestations recorded before.
    (
        {"expires_after": "30d"},
        attested(at=NOW - timedelta(days=31), expires_at=NOW + timedelta(days=60)),
        PENDING,
        "expired on 2026-03-01",
    ),
    ({}, attested(evidence=""), PENDING, "carla attested without evidence and this gate needs it"),
    ({}, attested(evidence="   "), PENDING, "without evidence"),
    ({"evidence_required": False}, attested(evidence=""), PASS, "attested by carla"),
    # Stores such as SQLite hand back naive datetimes; they are read as UTC.
    (
        {},
        attested(at=datetime(2026, 3, 1), expires_at=datetime(2026, 3, 2, 8, 59)),
        PENDING,
        "expired on 2026-03-02",
    ),
]


@pytest.mark.parametrize(("overrides", "snapshot", "outcome", "reason"), ATTESTATION_CASES)
def test_attestation_gate(
    overrides: dict[str, Any], snapshot: DepartmentFacts, outcome: Outcome, reason: str
) -> None:
    result = evaluate_gate(attestation_gate(**overrides), snapshot, now=NOW)
    assert result.outcome is outcome
    assert reason in result.reason


def test_attestation_for_another_gate_does_not_count() -> None:
    fact = AttestationFact(by="carla", evidence="x", attested_at=NOW)
    result = evaluate_gate(attestation_gate(), facts(attestations={"other": fact}), now=NOW)
    assert result.outcome is PENDING


# --------------------------------------------------------------------------- approval


def approval_gate(**overrides: Any) -> ApprovalGate:
    base: dict[str, Any] = {
        "name": "go-ahead",
        "kind": "approval",
        "title": "Sponsor and lead approve",
        "owner": "lead",
        "approvers": ["elena", "maria", "jorge"],
        "required": 2,
    }
    return ApprovalGate.model_validate(base | overrides)


def approved(*by: str) -> DepartmentFacts:
    return facts(approvals={"go-ahead": tuple(ApprovalFact(b, NOW, "ok") for b in by)})


APPROVAL_CASES = [
    (
        approved(),
        PENDING,
        0,
        "waiting for 2 more approvals from: elena, maria, jorge; "
        "run `pilotscale approve hr go-ahead --by EMAIL`",
    ),
    (approved("maria"), PENDING, 1, "waiting for 1 more approval from: elena, jorge;"),
    (approved("maria", "maria"), PENDING, 1, "1 more approval"),  # one person counts once
    (
        approved("maria", "intruder"),
        PENDING,
        1,
        "; ignored intruder (not an approver of this gate)",
    ),
    (approved("maria", "elena"), PASS, 2, "approved by elena, maria"),
    (approved("maria", "elena", "jorge"), PASS, 3, "approved by elena, jorge, maria"),
]


@pytest.mark.parametrize(("snapshot", "outcome", "count", "reason"), APPROVAL_CASES)
def test_approval_gate(
    snapshot: DepartmentFacts, outcome: Outcome, count: int, reason: str
) -> None:
    result = evaluate_gate(approval_gate(), snapshot, now=NOW)
    assert (result.outcome, result.observed) == (outcome, count)
    assert reason in result.reason


def decided(*said: tuple[str, str, str]) -> DepartmentFacts:
    """(approver, 'approve' or 'reject', comment), in the order they were given."""
    return facts(
        approvals={
            "go-ahead": tuple(
                ApprovalFact(by, NOW + timedelta(minutes=n), comment, decision, by.title())
                for n, (by, decision, comment) in enumerate(said)
            )
        }
    )


REJECTION_CASES = [
    # A rejection holds the gate, whatever the others said.
    (decided(("maria", "reject", "not yet")), FAIL, 0, "rejected by Maria: not yet"),
    (
        decided(("maria", "approve", "ok"), ("elena", "approve", "ok"), ("jorge", "reject", "no")),
        FAIL,
        2,
        "rejected by Jorge: no",
    ),
    # The same approver's later approval supersedes their rejection...
    (
        decided(("maria", "reject", "no"), ("maria", "approve", "ok"), ("elena", "approve", "")),
        PASS,
        2,
        "approved by elena, maria",
    ),
    # ... and a later rejection an approval.
    (
        decided(("maria", "approve", "ok"), ("maria", "reject", "on reflection")),
        FAIL,
        0,
        "on reflection",
    ),
    # Two rejections are both named.
    (
        decided(("maria", "reject", "a"), ("elena", "reject", "b")),
        FAIL,
        0,
        "rejected by Maria: a; rejected by Elena: b",
    ),
    # Someone not listed as approver neither approves nor rejects.
    (
        decided(("intruder", "reject", "x"), ("maria", "approve", "")),
        PENDING,
        1,
        "ignored intruder",
    ),
]


@pytest.mark.parametrize(("snapshot", "outcome", "count", "reason"), REJECTION_CASES)
def test_the_latest_decision_of_each_approver_counts_and_a_rejection_holds(
    snapshot: DepartmentFacts, outcome: Outcome, count: int, reason: str
) -> None:
    result = evaluate_gate(approval_gate(), snapshot, now=NOW)
    assert (result.outcome, result.observed) == (outcome, count)
    assert reason in result.reason


def test_approvals_of_another_gate_do_not_count() -> None:
    snapshot = facts(approvals={"other": (ApprovalFact("maria", NOW), ApprovalFact("elena", NOW))})
    assert evaluate_gate(approval_gate(), snapshot, now=NOW).outcome is PENDING


# --------------------------------------------------------------------------- soak


def soak_gate(duration: str = "14d") -> SoakGate:
    return SoakGate(name="soak", kind="soak", title="Soak", owner="lead", duration=duration)


@pytest.mark.parametrize(
    ("in_phase", "outcome", "reason"),
    [
        (timedelta(days=14), PASS, "in this phase for 14d, the minimum is 2w"),
        (timedelta(days=20, hours=3), PASS, "in this phase for 20d 3h"),
        (
            timedelta(days=14) - timedelta(minutes=1),
            PENDING,
            "in this phase for 13d 23h of the 2w minimum: passes on 2026-03-02 09:01 UTC "
            "(1m left); nothing to do but wait",
        ),
        (
            timedelta(days=3, hours=2),
            PENDING,
            "passes on 2026-03-13 07:00 UTC (10d 22h left)",
        ),
        # Entered "in the future" (clock skew): no time in phase yet, still pending.
        (-timedelta(hours=1), PENDING, "in this phase for 0m of the 2w minimum"),
    ],
)
def test_soak_gate(in_phase: timedelta, outcome: Outcome, reason: str) -> None:
    snapshot = facts(phase_entered_at=NOW - in_phase)
    result = evaluate_gate(soak_gate(), snapshot, now=NOW)
    assert result.outcome is outcome
    assert reason in result.reason
    assert result.observed == max(in_phase, timedelta(0)).total_seconds()


# --------------------------------------------------------------------------- training


def training_gate(**overrides: Any) -> TrainingGate:
    base: dict[str, Any] = {
        "name": "trained",
        "kind": "training",
        "title": "Trained",
        "owner": "coe",
        "segment": "power",
        "min_completion": 0.9,
    }
    return TrainingGate.model_validate(base | overrides)


TRAINING_CASES = [
    ({}, {}, PENDING, "training for power users is not assigned yet: ask coe to assign it"),
    ({}, {"power": TrainingFact(0, 0)}, PENDING, "not assigned yet"),
    # Nothing assigned is pending even when no completion is required.
    ({"min_completion": 0}, {"power": TrainingFact(0, 0)}, PENDING, "not assigned yet"),
    ({}, {"power": TrainingFact(10, 9)}, PASS, "9 of 10 power users trained (90%)"),
    (
        {},
        {"power": TrainingFact(10, 8)},
        FAIL,
        "only 8 of 10 power users trained (80%), needs 90%: "
        "ask coe to remind those who have not finished",
    ),
    # Rounding never shows a failing 89.5% as "90%".
    ({}, {"power": TrainingFact(200, 179)}, FAIL, "(89.5%), needs 90.0%"),
    (
        {"how_to_fix": "book a catch-up session"},
        {"power": TrainingFact(10, 1)},
        FAIL,
        "needs 90%: book a catch-up session",
    ),
    (
        {"segment": "casual", "min_completion": 0.7},
        {"power": TrainingFact(10, 0), "casual": TrainingFact(10, 7)},
        PASS,
        "7 of 10 casual users",
    ),
    (
        {"segment": "all", "min_completion": 0.5},
        {"power": TrainingFact(10, 10), "casual": TrainingFact(30, 9)},
        FAIL,
        "only 19 of 40 people trained (48%), needs 50%",
    ),
    # With a roster the denominator is everyone of the segment, assigned or not.
    (
        {"segment": "casual", "min_completion": 0.7},
        {"casual": TrainingFact(assigned=3, completed=3, people=150)},
        FAIL,
        "only 3 of 150 casual users trained (2%), needs 70%",
    ),
    (
        {"segment": "casual", "min_completion": 0.7},
        {"casual": TrainingFact(assigned=150, completed=3, people=150)},
        FAIL,
        "only 3 of 150 casual users trained (2%)",
    ),
    (
        {"segment": "casual", "min_completion": 0.7},
        {"casual": TrainingFact(assigned=0, completed=0, people=150)},
        PENDING,
        "training for casual users is not assigned yet",
    ),
    (
        {"segment": "all", "min_completion": 0.5},
        {
            "power": TrainingFact(assigned=10, completed=10, people=10),
            "casual": TrainingFact(assigned=30, completed=10, people=50),
        },
        FAIL,
        "only 20 of 60 people trained (33%), needs 50%",
    ),
]


@pytest.mark.parametrize(("overrides", "training", "outcome", "reason"), TRAINING_CASES)
def test_training_gate(
    overrides: dict[str, Any], training: dict[str, TrainingFact], outcome: Outcome, reason: str
) -> None:
    result = evaluate_gate(training_gate(**overrides), facts(training=training), now=NOW)
    assert result.outcome is outcome
    assert reason in result.reason


# --------------------------------------------------------------------------- champions


def champion_gate(**overrides: Any) -> ChampionCoverageGate:
    base: dict[str, Any] = {
        "name": "champions",
        "kind": "champion_coverage",
        "title": "Champions",
        "owner": "jorge",
        "min_champions": 2,
    }
    return ChampionCoverageGate.model_validate(base | overrides)


CHAMPION_CASES = [
    ({}, ChampionFact(2, 2, 2), 0, PASS, "2 champions acknowledged, needs 2"),
    (
        {},
        ChampionFact(2, 2, 1),
        0,
        FAIL,
        "only 1 champion acknowledged, needs 2: "
        "ask jorge to chase the champions' acknowledgements of the welcome kit",
    ),
    ({}, ChampionFact(2, 1, 1), 0, FAIL, "needs 2: onboard the identified champions"),
    ({}, ChampionFact(1, 1, 1), 0, FAIL, "needs 2: ask jorge to name 1 more champion in the plan"),
    ({}, ChampionFact(0, 0, 0), 0, FAIL, "ask jorge to name 2 more champions in the plan"),
    (
        {"people_per_champion": 50},
        ChampionFact(4, 4, 3),
        180,
        FAIL,
        "only 3 champions acknowledged, needs 4 (1 per 50 of 180 people, at least 2)",
    ),
    ({"people_per_champion": 50}, ChampionFact(4, 4, 4), 180, PASS, "needs 4"),
    ({"people_per_champion": 50}, ChampionFact(4, 4, 4), 200, PASS, "needs 4"),  # exactly
    ({"people_per_champion": 50}, ChampionFact(5, 5, 4), 201, FAIL, "needs 5"),
    ({"people_per_champion": 500}, ChampionFact(2, 2, 2), 180, PASS, "needs 2"),  # the minimum
    ({"people_per_champion": 50}, ChampionFact(2, 2, 2), 0, PASS, "needs 2"),
    ({"require": "identified"}, ChampionFact(2, 0, 0), 0, PASS, "2 champions identified"),
    ({"require": "onboarded"}, ChampionFact(3, 1, 1), 0, FAIL, "only 1 champion onboarded"),
    (
        {"how_to_fix": "ask HR for volunteers"},
        ChampionFact(0, 0, 0),
        0,
        FAIL,
        "needs 2: ask HR for volunteers",
    ),
]


@pytest.mark.parametrize(("overrides", "stages", "headcount", "outcome", "reason"), CHAMPION_CASES)
def test_champion_coverage_gate(
    overrides: dict[str, Any],
    stages: ChampionFact,
    headcount: int,
    outcome: Outcome,
    reason: str,
) -> None:
    snapshot = facts(champions=stages, headcount=headcount)
    result = evaluate_gate(champion_gate(**overrides), snapshot, now=NOW)
    assert result.outcome is outcome
    assert reason in result.reason


# --------------------------------------------------------------------------- support


def support_gate(**overrides: Any) -> SupportCoverageGate:
    base: dict[str, Any] = {
        "name": "support",
        "kind": "support_coverage",
        "title": "Support model",
        "owner": "maria",
    }
    return SupportCoverageGate.model_validate(base | overrides)


ALL_AREAS = {"technical": "it", "adoption": "coe", "content": "km", "governance": "legal"}

SUPPORT_CASES = [
    (
        {},
        ALL_AREAS,
        PASS,
        "every support area has an owner: technical (it), adoption (coe), content (km), "
        "governance (legal)",
    ),
    (
        {},
        ALL_AREAS | {"adoption": None, "governance": ""},
        FAIL,
        "no support owner for adoption, governance: "
        "ask maria to name one under the department's `support:` in the plan",
    ),
    ({}, {}, FAIL, "no support owner for technical, adoption, content, governance"),
    ({"areas": ["technical"]}, {"technical": "it"}, PASS, "technical (it)"),
    ({"how_to_fix": "ask the CIO"}, {}, FAIL, "governance: ask the CIO"),
]


@pytest.mark.parametrize(("overrides", "support", "outcome", "reason"), SUPPORT_CASES)
def test_support_coverage_gate(
    overrides: dict[str, Any], support: dict[str, str | None], outcome: Outcome, reason: str
) -> None:
    result = evaluate_gate(support_gate(**overrides), facts(support=support), now=NOW)
    assert result.outcome is outcome
    assert reason in result.reason


# --------------------------------------------------------------------------- phases


def passing_soak() -> SoakGate:
    return soak_gate("1d")


def pending_soak() -> SoakGate:
    return soak_gate("2d")


def failing_support() -> SupportCoverageGate:
    return support_gate()


@pytest.mark.parametrize(
    ("gates", "outcome", "holding"),
    [
        ([], PASS, []),
        ([passing_soak()], PASS, []),
        ([passing_soak(), pending_soak()], PENDING, ["soak"]),
        ([pending_soak(), failing_support()], FAIL, ["soak", "support"]),
        ([failing_support(), passing_soak()], FAIL, ["support"]),
    ],
)
def test_phase_verdict(gates: list[AnyGate], outcome: Outcome, holding: list[str]) -> None:
    verdict = evaluate_phase(gates, facts(), now=NOW)
    assert verdict.outcome is outcome
    assert [r.gate for r in verdict.results] == [g.name for g in gates]
    assert [r.gate for r in verdict.holding] == holding


def test_phase_verdict_names_each_gate_owner() -> None:
    gates: list[AnyGate] = [metric_gate(), support_gate()]
    verdict = evaluate_phase(gates, facts(), now=NOW, owner_names={"support": "María López"})
    assert "ask ana to send data" in verdict.results[0].reason
    assert "ask María López to name one" in verdict.results[1].reason


def test_phase_gates_adds_the_implicit_soak_gate() -> None:
    gates: dict[str, AnyGate] = {"support": support_gate(), "weekly-active": metric_gate()}
    phase = Phase(name="piloting", exit_gates=["weekly-active", "support"], min_soak="2w")
    listed = phase_gates(phase, gates)
    assert [g.name for g in listed] == ["weekly-active", "support", "piloting-min-soak"]
    soak = listed[-1]
    assert isinstance(soak, SoakGate)
    assert soak.duration == timedelta(weeks=2)
    result = evaluate_gate(soak, facts(phase_entered_at=NOW - timedelta(days=13)), now=NOW)
    assert result.outcome is PENDING
    assert result.gate == "piloting-min-soak"


def test_phase_gates_without_min_soak_adds_nothing() -> None:
    phase = Phase(name="piloting", exit_gates=["support"])
    assert phase_gates(phase, {"support": support_gate()}) == [support_gate()]


def test_phase_gates_soak_name_works_for_the_longest_phase_name() -> None:
    name = "p" * 63
    listed = phase_gates(Phase(name=name, min_soak="1d"), {})
    assert [g.name for g in listed] == [f"{name}-min-soak"]


def test_phase_gates_explicit_gate_with_the_soak_name_wins() -> None:
    explicit = SoakGate(name="piloting-min-soak", kind="soak", title="t", owner="x", duration="5d")
    phase = Phase(name="piloting", exit_gates=["piloting-min-soak"], min_soak="2w")
    assert phase_gates(phase, {"piloting-min-soak": explicit}) == [explicit]


def test_phase_gates_unknown_gate_is_named() -> None:
    phase = Phase(name="piloting", exit_gates=["support", "ghost"])
    with pytest.raises(ValueError, match="phase 'piloting' lists unknown gate\\(s\\): ghost"):
        phase_gates(phase, {"support": support_gate()})


def test_metric_windows_are_what_the_store_must_aggregate() -> None:
    gates: list[AnyGate] = [
        metric_gate(),
        metric_gate(name="b", window="2w"),
        metric_gate(name="c"),
        soak_gate(),
    ]
    assert metric_windows(gates) == {
        ("weekly_active_rate", 604800),
        ("weekly_active_rate", 1209600),
    }


# --------------------------------------------------------------------------- pending never passes

_any_gate = st.one_of(
    st.builds(
        lambda op, agg, thr, n: metric_gate(
            name="other-metric", metric="other", op=op, aggregate=agg, threshold=thr, min_samples=n
        ),
        st.sampled_from([">=", ">", "<=", "<"]),
        st.sampled_from(["avg", "sum", "min", "max", "last", "count"]),
        st.floats(-1e6, 1e6),
        st.integers(1, 50),
    ),
    st.builds(lambda d: soak_gate(f"{d}d"), st.integers(1, 30)),
    st.builds(lambda frac: training_gate(segment="all", min_completion=frac), st.floats(0, 1)),
    st.builds(lambda n: champion_gate(min_champions=n), st.integers(1, 10)),
    st.just(support_gate()),
    st.just(approval_gate(required=1)),
    st.just(attestation_gate(evidence_required=False)),
)

_values = st.floats(-1e6, 1e6)
_aggregate = st.builds(
    lambda count, low, high, last: MetricAggregate(count, count * last, low, high, last),
    st.integers(0, 60),
    _values,
    _values,
    _values,
)


@st.composite
def _facts_without_samples(draw: st.DrawFn) -> DepartmentFacts:
    metrics = {metric_key("other", timedelta(days=7)): draw(_aggregate)}
    if draw(st.booleans()):
        empty = MetricAggregate(0, draw(_values), draw(_values), draw(_values), draw(_values))
        metrics[metric_key("weekly_active_rate", timedelta(days=7))] = empty
    return facts(
        phase_entered_at=NOW - timedelta(days=draw(st.integers(0, 60))),
        metrics=metrics,
        training={"power": TrainingFact(draw(st.integers(0, 99)), draw(st.integers(0, 99)))},
        champions=ChampionFact(*draw(st.lists(st.integers(0, 20), min_size=3, max_size=3))),
        headcount=draw(st.integers(0, 5000)),
        support=ALL_AREAS,
        approvals={"go-ahead": (ApprovalFact("maria", NOW),)},
        attestations={"guardrails": AttestationFact("carla", "", NOW)},
    )


@settings(max_examples=100, deadline=None)
@given(
    others=st.lists(_any_gate, max_size=6),
    threshold=st.floats(-1e6, 1e6),
    op=st.sampled_from([">=", ">", "<=", "<"]),
    aggregate=st.sampled_from(["avg", "sum", "min", "max", "last", "count"]),
    snapshot=_facts_without_samples(),
    position=st.integers(0, 6),
)
def test_a_metric_without_samples_never_lets_a_phase_pass(
    others: list[AnyGate],
    threshold: float,
    op: str,
    aggregate: str,
    snapshot: DepartmentFacts,
    position: int,
) -> None:
    starved = metric_gate(op=op, aggregate=aggregate, threshold=threshold, min_samples=1)
    gates = [*others]
    gates.insert(min(position, len(gates)), starved)
    verdict = evaluate_phase(gates, snapshot, now=NOW)
    assert verdict.outcome is not PASS
    starved_result = next(r for r in verdict.results if r.gate == "weekly-active")
    assert starved_result.outcome is PENDING
    # Overall: pass only if all pass; a failure outranks pending.
    outcomes = {r.outcome for r in verdict.results}
    assert verdict.outcome is (FAIL if FAIL in outcomes else PENDING)
