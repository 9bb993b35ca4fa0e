"""Gate evaluation: a gate definition from the plan plus a snapshot of facts gives a result.

Every result carries the observed value, the threshold and one sentence a person
can act on. PENDING (no data, too few samples, nobody attested yet, still soaking)
is never a pass: a phase passes only when every one of its gates passes.

Where the gate's `how_to_fix` applies: it replaces the default advice when the
gate fails on its merits (a metric below threshold, training not completed, too
few champions, missing support owners) and is added to the request to attest.
It is not used where the way forward is mechanical (send data, approve, wait,
renew an expired attestation), because it would be the wrong advice there.

Comparisons at the threshold allow for floating-point noise: an average of
0.6, 0.6 and 0.6 meets ">= 0.6" even if the division lands a hair below it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from pilotscale.core.facts import DepartmentFacts, latest_decisions, metric_key
from pilotscale.core.states import Outcome
from pilotscale.core.trend import evaluate_trend
from pilotscale.plan.schema import (
    ApprovalGate,
    AttestationGate,
    ChampionCoverageGate,
    MetricGate,
    Phase,
    SoakGate,
    SupportCoverageGate,
    TrainingGate,
    TrendGate,
    format_duration,
)

AnyGate: TypeAlias = (
    MetricGate
    | TrendGate
    | AttestationGate
    | ApprovalGate
    | SoakGate
    | TrainingGate
    | ChampionCoverageGate
    | SupportCoverageGate
)


@dataclass(frozen=True)
class GateResult:
    gate: str
    kind: str
    outcome: Outcome
    observed: float | None
    observed_text: str
    threshold_text: str
    reason: str


@dataclass(frozen=True)
class PhaseVerdict:
    outcome: Outcome
    results: tuple[GateResult, ...]
    # Gates shown and notified like any other whose outcome never holds (`advisory: true`),
    # and gates a lead waived until a date (core.controls): both left out of `outcome`.
    advisory: frozenset[str] = frozenset()
    waived: frozenset[str] = frozenset()

    @property
    def holding(self) -> tuple[GateResult, ...]:
        """The results that keep the department in its phase (failed or pending)."""
        return tuple(r for r in self.results if r.outcome is not Outcome.passed)


# --------------------------------------------------------------------------- public API


def evaluate_gate(
    gate: AnyGate, facts: DepartmentFacts, *, now: datetime, owner_name: str = ""
) -> GateResult:
    """Evaluate one gate. `owner_name` is how the gate's owner is named in the sentence;
    without it the owner as written in the plan (a person id or a role) is used."""
    evaluate = _EVALUATORS[type(gate)]
    return evaluate(gate, facts, _aware(now), owner_name or gate.owner)


def evaluate_phase(
    gates: Sequence[AnyGate],
    facts: DepartmentFacts,
    *,
    now: datetime,
    owner_names: Mapping[str, str] | None = None,
) -> PhaseVerdict:
    """All gates of a phase. `owner_names` maps gate name to its owner's display name.

    A phase without gates passes: there is nothing to hold it (the plan check warns).
    """
    names = owner_names or {}
    results = tuple(
        evaluate_gate(g, facts, now=now, owner_name=names.get(g.name, "")) for g in gates
    )
    advisory = frozenset(g.name for g in gates if g.advisory)
    return PhaseVerdict(
        outcome=overall_outcome(results, advisory), results=results, advisory=advisory
    )


def overall_outcome(results: Iterable[GateResult], advisory: Iterable[str] = ()) -> Outcome:
    """A phase's outcome from its gates' results; advisory gates never hold it."""
    skip = set(advisory)
    outcomes = {r.outcome for r in results if r.gate not in skip}
    if outcomes <= {Outcome.passed}:
        return Outcome.passed
    if Outcome.failed in outcomes:
        return Outcome.failed
    return Outcome.pending


def phase_gates(plan_phase: Phase, gates_by_name: Mapping[str, AnyGate]) -> list[AnyGate]:
    """The exit gates of a phase, plus an implicit soak gate for its `min_soak`.

    A gate the phase lists under the implicit gate's own name takes its place.
    """
    missing = [name for name in plan_phase.exit_gates if name not in gates_by_name]
    if missing:
        raise ValueError(
            f"phase '{plan_phase.name}' lists unknown gate(s): {', '.join(missing)}; "
            "define them under `gates:` in the plan"
        )
    gates = [gates_by_name[name] for name in plan_phase.exit_gates]
    soak_name = f"{plan_phase.name}-min-soak"
    if plan_phase.min_soak is not None and soak_name not in plan_phase.exit_gates:
        # model_construct: the long phase names a slug allows would fail the slug pattern
        # once suffixed, and every value here was validated with the plan already.
        gates.append(
            SoakGate.model_construct(
                name=soak_name,
                kind="soak",
                title=f"At least {format_duration(plan_phase.min_soak)} in '{plan_phase.name}'",
                owner="lead",
                source=f"phases.{plan_phase.name}.min_soak",
                how_to_fix="",
                duration=plan_phase.min_soak,
            )
        )
    return gates


def metric_windows(gates: Iterable[AnyGate]) -> set[tuple[str, int]]:
    """The (metric, window seconds) aggregates the store must compute for these gates."""
    return {metric_key(g.metric, g.window) for g in gates if isinstance(g, MetricGate)}


# --------------------------------------------------------------------------- evaluators


def _metric(gate: MetricGate, facts: DepartmentFacts, now: datetime, who: str) -> GateResult:
    label = _metric_label(gate)
    window = format_duration(gate.window)
    samples = _plural(gate.min_samples, "sample")
    threshold_text = f"{gate.op} {_num(gate.threshold)} over {window}, at least {samples}"
    agg = facts.metric(gate.metric, gate.window)
    value = agg.value(gate.aggregate) if agg.count else None

    def result(outcome: Outcome, observed_text: str, reason: str) -> GateResult:
        return GateResult(
            gate.name, gate.kind, outcome, value, observed_text, threshold_text, reason
        )

    error = facts.metric_errors.get(gate.metric)
    if error:
        return result(
            Outcome.pending,
            f"source failed: {error}",
            f"could not read {label}: {error}; check the source of metric '{gate.metric}' "
            "in the plan, or import the data with `pilotscale metrics import`",
        )
    # Stored values outside the metric's range are not counted; say so wherever they were.
    left_out = (
        f"; {_plural(agg.outside, 'observation')} outside the metric's range left out"
        if agg.outside
        else ""
    )
    if agg.count == 0:
        return result(
            Outcome.pending,
            "no data",
            f"no {_metric_name(gate)} data in the last {window} (needs {samples}{left_out}): "
            f"ask {who} to send data",
        )
    if value is not None and not math.isfinite(value):
        # Ranges keep sums finite; should one still not be, it decides nothing.
        value = None
        return result(
            Outcome.pending,
            "not a finite number",
            f"{label} over the last {window} is not a finite number: check the observations "
            f"of metric '{gate.metric}'",
        )
    if agg.count < gate.min_samples or value is None:
        return result(
            Outcome.pending,
            f"{_num(value) if value is not None else 'no value'} "
            f"from {_plural(agg.count, 'sample')}",
            f"only {_plural(agg.count, 'sample')} of {_metric_name(gate)} in the last {window}, "
            f"needs at least {gate.min_samples}{left_out}: ask {who} to send more data",
        )
    shown, wanted = _num_pair(value, gate.threshold)
    measured = (
        f"{label} is {shown} over the last {window} ({_plural(agg.count, 'sample')}{left_out})"
    )
    observed_text = f"{shown} ({_plural(agg.count, 'sample')})"
    if _meets(value, gate.op, gate.threshold):
        return result(Outcome.passed, observed_text, f"{measured}, meets {gate.op} {wanted}")
    fix = gate.how_to_fix or f"ask {who} to act on it"
    return result(Outcome.failed, observed_text, f"{measured}, needs {gate.op} {wanted}: {fix}")


def _attestation(
    gate: AttestationGate, facts: DepartmentFacts, now: datetime, who: str
) -> GateResult:
    threshold_text = f"attested: {gate.checklist}"
    if gate.evidence_required:
        threshold_text += " (with evidence)"
    if gate.expires_after is not None:
        threshold_text += f", renewed every {format_duration(gate.expires_after)}"
    fact = facts.attestations.get(gate.name)

    def result(outcome: Outcome, observed_text: str, reason: str) -> GateResult:
        return GateResult(
            gate.name, gate.kind, outcome, None, observed_text, threshold_text, reason
        )

    if fact is None:
        extra = f"; {gate.how_to_fix}" if gate.how_to_fix else ""
        return result(
            Outcome.pending,
            "not attested",
            f"not attested yet: ask {who} to attest: {gate.checklist}{extra}",
        )
    attested_at = _aware(fact.attested_at)
    observed_text = f"attested by {fact.by} on {_day(attested_at)}"
    # The earlier of the expiry recorded with the attestation and the one the gate asks
    # for now, so tightening `expires_after` in the plan takes effect on old attestations.
    expiries = [_aware(fact.expires_at)] if fact.expires_at is not None else []
    if gate.expires_after is not None:
        expiries.append(attested_at + gate.expires_after)
    expires = min(expiries, default=None)
    if expires is not None and expires <= now:
        return result(
            Outcome.pending,
            f"{observed_text}, expired on {_day(expires)}",
            f"the attestation by {fact.by} expired on {_day(expires)}: "
            f"ask {who} to re-attest: {gate.checklist}",
        )
    if gate.evidence_required and not fact.evidence.strip():
        return result(
            Outcome.pending,
            f"{observed_text}, without evidence",
            f"{fact.by} attested without evidence and this gate needs it: "
            f"ask {who} to attest again with a link to the evidence",
        )
    until = f", valid until {_day(expires)}" if expires is not None else ""
    return result(Outcome.passed, observed_text + until, f"{observed_text}{until}")


def _approval(gate: ApprovalGate, facts: DepartmentFacts, now: datetime, who: str) -> GateResult:
    # Each approver's latest decision in the visit counts, and only the approvers named in
    # the plan count: approval is identity and policy.
    latest = latest_decisions(facts.approvals.get(gate.name, ()))
    valid = sorted(a for a, f in latest.items() if a in gate.approvers and not f.rejects)
    rejected = [f for a, f in latest.items() if a in gate.approvers and f.rejects]
    ignored = sorted(a for a in latest if a not in gate.approvers)
    threshold_text = f"{_plural(gate.required, 'approval')} from: {', '.join(gate.approvers)}"
    observed_text = _plural(len(valid), "approval")
    if valid:
        observed_text += f" ({', '.join(valid)})"
    if rejected:
        observed_text += f"; rejected by {', '.join(f.by for f in rejected)}"
    note = ""
    if ignored:
        observed_text += f"; ignored: {', '.join(ignored)}"
        note = f"; ignored {', '.join(ignored)} (not an approver of this gate)"

    def result(outcome: Outcome, reason: str) -> GateResult:
        return GateResult(
            gate.name, gate.kind, outcome, float(len(valid)), observed_text, threshold_text, reason
        )

    if rejected:
        # A rejection holds the gate whatever the others said, until that approver
        # approves after all (their later approval supersedes it).
        said = "; ".join(f"rejected by {f.name or f.by}: {f.comment}" for f in rejected)
        return result(Outcome.failed, f"{said}{note}")
    if len(valid) >= gate.required:
        return result(Outcome.passed, f"approved by {', '.join(valid)}{note}")
    waiting = [p for p in gate.approvers if p not in valid]
    more = _plural(gate.required - len(valid), "more approval")
    return result(
        Outcome.pending,
        f"waiting for {more} from: {', '.join(waiting)}; run "
        f"`pilotscale approve {facts.department} {gate.name} --by EMAIL`{note}",
    )


def _soak(gate: SoakGate, facts: DepartmentFacts, now: datetime, who: str) -> GateResult:
    entered = _aware(facts.phase_entered_at)
    elapsed = max(now - entered, timedelta(0))
    minimum = format_duration(gate.duration)
    observed_text = f"{_span(elapsed)} in phase"
    threshold_text = f"at least {minimum} in phase"

    def result(outcome: Outcome, reason: str) -> GateResult:
        return GateResult(
            gate.name,
            gate.kind,
            outcome,
            elapsed.total_seconds(),
            observed_text,
            threshold_text,
            reason,
        )

    if elapsed >= gate.duration:
        return result(
            Outcome.passed, f"in this phase for {_span(elapsed)}, the minimum is {minimum}"
        )
    passes_at = entered + gate.duration
    return result(
        Outcome.pending,
        f"in this phase for {_span(elapsed)} of the {minimum} minimum: passes on "
        f"{_moment(passes_at)} ({_span(passes_at - now)} left); nothing to do but wait",
    )


_SEGMENT_PEOPLE = {"power": "power users", "casual": "casual users", "all": "people"}


def _training(gate: TrainingGate, facts: DepartmentFacts, now: datetime, who: str) -> GateResult:
    people = _SEGMENT_PEOPLE[gate.segment]
    fact = facts.training_for(gate.segment)
    threshold_text = f"{_pct(gate.min_completion)} of {people} completed"
    if fact.assigned <= 0:
        return GateResult(
            gate.name,
            gate.kind,
            Outcome.pending,
            None,
            "not assigned",
            threshold_text,
            f"training for {people} is not assigned yet: ask {who} to assign it "
            "(add modules under the department's `training:` in the plan if there are none)",
        )
    # The denominator is everyone of the segment (`TrainingFact.people`), not only those
    # assigned: the department's roster, so three trained of 150 is 2 %, not 100 %.
    total = fact.denominator
    ratio = fact.completed / total if total else 0.0
    shown, wanted = _pct_pair(ratio, gate.min_completion)
    counts = f"{fact.completed} of {total} {people} trained ({shown})"

    def result(outcome: Outcome, reason: str) -> GateResult:
        observed_text = f"{fact.completed} of {total} ({shown})"
        return GateResult(
            gate.name, gate.kind, outcome, ratio, observed_text, threshold_text, reason
        )

    if _meets(ratio, ">=", gate.min_completion):
        return result(Outcome.passed, f"{counts}, meets {wanted}")
    fix = gate.how_to_fix or f"ask {who} to remind those who have not finished"
    return result(Outcome.failed, f"only {counts}, needs {wanted}: {fix}")


def _champions(
    gate: ChampionCoverageGate, facts: DepartmentFacts, now: datetime, who: str
) -> GateResult:
    needed, basis = gate.min_champions, ""
    if gate.people_per_champion:
        by_size = math.ceil(max(facts.headcount, 0) / gate.people_per_champion)
        needed = max(needed, by_size)
        basis = (
            f" (1 per {gate.people_per_champion} of {facts.headcount} people, "
            f"at least {gate.min_champions})"
        )
    stages = facts.champions
    have = {
        "identified": stages.identified,
        "onboarded": stages.onboarded,
        "acknowledged": stages.acknowledged,
    }[gate.require]
    threshold_text = f"{needed} {gate.require}{basis}"
    observed_text = f"{have} {gate.require}"

    def result(outcome: Outcome, reason: str) -> GateResult:
        return GateResult(
            gate.name, gate.kind, outcome, float(have), observed_text, threshold_text, reason
        )

    counted = f"{_plural(have, 'champion')} {gate.require}"
    if have >= needed:
        return result(Outcome.passed, f"{counted}, needs {needed}{basis}")
    # Advise on the earliest stage that falls short: onboarding cannot fix too few names.
    if stages.identified < needed:
        more = _plural(needed - stages.identified, "more champion")
        default = f"ask {who} to name {more} in the plan"
    elif stages.onboarded < needed:
        default = "onboard the identified champions (the phase's onboard_champions action)"
    else:
        default = f"ask {who} to chase the champions' acknowledgements of the welcome kit"
    fix = gate.how_to_fix or default
    return result(Outcome.failed, f"only {counted}, needs {needed}{basis}: {fix}")


def _support(
    gate: SupportCoverageGate, facts: DepartmentFacts, now: datetime, who: str
) -> GateResult:
    owners = {area: facts.support.get(area) for area in gate.areas}
    missing = [area for area, owner in owners.items() if not owner]
    covered = len(owners) - len(missing)
    threshold_text = f"an owner for each of: {', '.join(gate.areas)}"
    observed_text = f"{covered} of {len(owners)} areas have an owner"

    def result(outcome: Outcome, reason: str) -> GateResult:
        return GateResult(
            gate.name, gate.kind, outcome, float(covered), observed_text, threshold_text, reason
        )

    if not missing:
        named = ", ".join(f"{area} ({owner})" for area, owner in owners.items())
        return result(Outcome.passed, f"every support area has an owner: {named}")
    fix = gate.how_to_fix or (
        f"ask {who} to name one under the department's `support:` in the plan"
    )
    return result(Outcome.failed, f"no support owner for {', '.join(missing)}: {fix}")


def _trend(gate: TrendGate, facts: DepartmentFacts, now: datetime, who: str) -> GateResult:
    found = evaluate_trend(gate, facts, now, who)
    return GateResult(
        gate.name,
        gate.kind,
        found.outcome,
        found.observed,
        found.observed_text,
        found.threshold_text,
        found.reason,
    )


_EVALUATORS: dict[type, Callable[[Any, DepartmentFacts, datetime, str], GateResult]] = {
    MetricGate: _metric,
    TrendGate: _trend,
    AttestationGate: _attestation,
    ApprovalGate: _approval,
    SoakGate: _soak,
    TrainingGate: _training,
    ChampionCoverageGate: _champions,
    SupportCoverageGate: _support,
}

# --------------------------------------------------------------------------- wording

_AGGREGATE_WORDS = {
    "avg": "",
    "sum": "total ",
    "min": "lowest ",
    "max": "highest ",
    "last": "latest ",
    "count": "number of samples of ",
}


def _metric_name(gate: MetricGate) -> str:
    return gate.metric.replace("_", " ").replace("-", " ").replace(".", " ")


def _metric_label(gate: MetricGate) -> str:
    return f"{_AGGREGATE_WORDS[gate.aggregate]}{_metric_name(gate)}"


def _meets(value: float, op: str, threshold: float) -> bool:
    at = math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)
    return {
        ">=": value >= threshold or at,
        ">": value > threshold and not at,
        "<=": value <= threshold or at,
        "<": value < threshold and not at,
    }[op]


def _num(value: float, digits: int = 2) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) < 10**-digits:
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def _num_pair(value: float, threshold: float) -> tuple[str, str]:
    """Both numbers, with enough digits that different values never print the same."""
    digits = 2
    while (
        float(_num(value, digits)) == float(_num(threshold, digits))
        and not math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)
        and digits < 12
    ):
        digits += 1
    return _num(value, digits), _num(threshold, digits)


def _pct(fraction: float, digits: int = 0) -> str:
    return f"{fraction:.{digits}%}"


def _pct_pair(value: float, threshold: float) -> tuple[str, str]:
    digits = 0
    while (
        _pct(value, digits) == _pct(threshold, digits)
        and not math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)
        and digits < 10
    ):
        digits += 1
    return _pct(value, digits), _pct(threshold, digits)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _span(delta: timedelta) -> str:
    """A duration for people: the two largest units, e.g. '10d 4h', '3h 20m', '45m'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 1440)
    units = [(days, "d"), *zip(divmod(rest, 60), ("h", "m"), strict=True)]
    for i, (count, unit) in enumerate(units):
        if count:
            after = units[i + 1] if i + 1 < len(units) else (0, "")
            return f"{count}{unit}" + (f" {after[0]}{after[1]}" if after[0] else "")
    return "0m"


def _aware(moment: datetime) -> datetime:
    # Stores such as SQLite hand back naive datetimes; ours are always UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _moment(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
