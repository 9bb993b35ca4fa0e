"""A department's own numbers for a gate (`departments[].gate_overrides`).

One rule table says which gate kinds take which override and which field of the gate
it replaces, so validating an override and applying it cannot disagree.
"""

from __future__ import annotations

from typing import Any

from pilotscale.plan.schema import (
    ChampionCoverageGate,
    GateOverride,
    MetricGate,
    TrainingGate,
)

# Override field -> gate kind -> the gate's field it replaces.
TARGETS: dict[str, dict[type[Any], str]] = {
    "threshold": {
        MetricGate: "threshold",
        TrainingGate: "min_completion",
        ChampionCoverageGate: "min_champions",
    },
    "window": {MetricGate: "window"},
    "min_samples": {MetricGate: "min_samples"},
}

_KIND: dict[type[Any], str] = {
    MetricGate: "metric",
    TrainingGate: "training",
    ChampionCoverageGate: "champion_coverage",
}


def override_problems(gate: Any, override: GateOverride) -> list[tuple[str, str]]:
    """(override field, why) for each field set on `override` that `gate` cannot take."""
    problems = []
    for name in sorted(override.model_fields_set):
        value = getattr(override, name)
        if value is None:
            continue
        field = TARGETS[name].get(type(gate))
        if field is None:
            takes = ", ".join(_KIND[t] for t in TARGETS[name])
            problems.append(
                (
                    name,
                    f"gate '{gate.name}' is {_article(gate.kind)} {gate.kind} gate and has "
                    f"no {name} to override: {name} applies to {takes} gates",
                )
            )
        elif isinstance(gate, TrainingGate) and not 0.0 <= float(value) <= 1.0:
            problems.append((name, f"{value} is not a fraction: min_completion is 0..1"))
        elif isinstance(gate, ChampionCoverageGate) and (value < 1 or value != int(value)):
            problems.append((name, f"{value} is not a whole number of champions (at least 1)"))
    return problems


def apply_override(gate: Any, override: GateOverride | None) -> Any:
    """`gate` with the department's own numbers; the gate itself if nothing applies."""
    if override is None:
        return gate
    update: dict[str, Any] = {}
    for name, by_kind in TARGETS.items():
        value = getattr(override, name)
        field = by_kind.get(type(gate))
        if value is None or field is None:
            continue
        update[field] = int(value) if isinstance(gate, ChampionCoverageGate) else value
    return gate.model_copy(update=update) if update else gate


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
