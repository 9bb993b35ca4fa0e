"""Trend gates: is a metric growing, stable or not declining over a window?

A level gate asks "is adoption high enough"; the seeds also ask which way it is going,
because a department at 62 % and falling needs a different conversation than one at 55 %
and climbing. The direction is the least-squares slope of the window's samples (each
sample weighs the same; a straight line through noisy weekly numbers is what a person
would draw by eye), expressed as change per `per` (a week by default) in points.

Too few samples, or samples all at one moment, give no slope: the gate is pending, never a
verdict, like a metric gate without data. `tolerance` is the flat band: growing needs a
slope above it, stable a slope within it either way, not declining no fall beyond it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pilotscale.core.facts import DepartmentFacts, Moments, Series
from pilotscale.core.states import Outcome
from pilotscale.plan.domains import FRACTION_UNITS, PERCENT_UNITS
from pilotscale.plan.schema import Plan, TrendGate

# Equal within float noise: a slope of exactly the tolerance is at the edge of the band.
_REL, _ABS = 1e-9, 1e-12


@dataclass(frozen=True)
class TrendFinding:
    """What a trend gate found; `gates.py` turns it into a GateResult."""

    outcome: Outcome
    observed: float | None  # the slope, in points (or units) per `per`
    observed_text: str
    threshold_text: str
    reason: str


def point_of(plan: Plan, metric: str) -> tuple[float, str]:
    """What one point of change of `metric` weighs and is called: a fraction's hundredth or
    a percentage's unit are "points" (a rate from 0.40 to 0.42 grew 2 points), anything
    else counts in its own unit."""
    spec = next((m for m in plan.metrics if m.name == metric), None)
    unit = (spec.unit if spec else "").strip()
    if unit.lower() in FRACTION_UNITS or (not unit and metric.endswith("_rate")):
        return 0.01, "points"
    if unit.lower() in PERCENT_UNITS:
        return 1.0, "points"
    return 1.0, unit


def least_squares_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Slope of the least-squares line through (x, y) points; None when x never varies
    (fewer than two distinct x: no line is defined)."""
    n = len(points)
    if n < 2:
        return None
    mean_x = math.fsum(x for x, _ in points) / n
    mean_y = math.fsum(y for _, y in points) / n
    spread = math.fsum((x - mean_x) ** 2 for x, _ in points)
    if spread <= 0:
        return None
    return math.fsum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def meets(direction: str, slope: float, tolerance: float) -> bool:
    """Whether a slope (in points per period) is the direction the gate asks for."""
    at_edge = math.isclose(abs(slope), tolerance, rel_tol=_REL, abs_tol=_ABS)
    if direction == "growing":
        return slope > tolerance and not at_edge
    if direction == "stable":
        return abs(slope) <= tolerance or at_edge
    if direction == "not_declining":
        return slope >= -tolerance or at_edge
    raise ValueError(f"unknown trend direction {direction!r}")


def in_window(series: Series, window: timedelta, now: datetime) -> list[tuple[datetime, float]]:
    """The samples of the window ending at `now`: later than now - window, not after now."""
    start = now - window
    return [(at, v) for at, v in series.samples if start < _aware(at, now) <= now]


def slope_per(
    samples: Sequence[tuple[datetime, float]], *, per: timedelta, point: float
) -> float | None:
    """Change per `per` in points of `point`, by least squares over the samples."""
    if not samples:
        return None
    first = min(at for at, _ in samples)
    unit = per.total_seconds()
    raw = least_squares_slope(
        [((at - first).total_seconds() / unit, value / point) for at, value in samples]
    )
    return None if raw is None or not math.isfinite(raw) else raw


def evaluate_trend(
    gate: TrendGate, facts: DepartmentFacts, now: datetime, who: str
) -> TrendFinding:
    series = facts.series.get(gate.metric, Series())
    label = gate.metric.replace("_", " ").replace("-", " ").replace(".", " ")
    unit = series.unit
    per, span = _per_words(gate.per), _span_words(gate.window)
    needs = _needs(gate.direction, gate.tolerance, unit, per)
    threshold_text = f"{needs} over {span}, at least {gate.min_samples} samples"

    def finding(
        outcome: Outcome, observed: float | None, observed_text: str, reason: str
    ) -> TrendFinding:
        return TrendFinding(outcome, observed, observed_text, threshold_text, reason)

    error = facts.metric_errors.get(gate.metric)
    if error:
        return finding(
            Outcome.pending,
            None,
            f"source failed: {error}",
            f"could not read {label}: {error}; check the source of metric '{gate.metric}' "
            "in the plan, or import the data with `pilotscale metrics import`",
        )
    moments = series.moments.get(int(gate.window.total_seconds()))
    if moments is None:
        moments = Moments.of(in_window(series, gate.window, now), now)
    count = _plural(moments.count, "sample")
    if moments.count < gate.min_samples:
        return finding(
            Outcome.pending,
            None,
            f"{count}, too few for a trend",
            f"only {count} of {label} in the last {span}; a trend needs at least "
            f"{gate.min_samples}: ask {who} to send data",
        )
    per_day = moments.slope_per_day()
    slope = None if per_day is None else per_day * (gate.per.total_seconds() / 86400) / series.point
    if slope is None or not math.isfinite(slope):
        return finding(
            Outcome.pending,
            None,
            f"{count} at one moment",
            f"the {count} of {label} in the last {span} were all taken at the same moment, "
            f"so they show no direction: ask {who} to send data from different days",
        )
    signed = _signed(slope)
    observed_text = f"{signed} {_unit(signed.lstrip('+-'), unit)} {per} ({count})"
    observed_text = observed_text.replace("  ", " ")
    measured = f"{label} {_moved(slope, unit, per)} over {span} ({count})"
    if meets(gate.direction, slope, gate.tolerance):
        return finding(Outcome.passed, slope, observed_text, f"{measured}: {needs}")
    fix = gate.how_to_fix or f"ask {who} to find out why and act on it"
    return finding(Outcome.failed, slope, observed_text, f"{measured}, needs {needs}: {fix}")


# --------------------------------------------------------------------------- wording


def _needs(direction: str, tolerance: float, unit: str, per: str) -> str:
    amount = f"{_num(tolerance)} {unit}".rstrip()
    if direction == "growing":
        return f"growing by more than {amount} {per}"
    if direction == "stable":
        return f"stable within {amount} {per} either way"
    if tolerance:
        return f"not declining by more than {amount} {per}"
    return "not declining"


def _moved(slope: float, unit: str, per: str) -> str:
    """'grew 2.1 points a week', 'fell 0.5 points a week', 'held level'."""
    shown = _num(abs(slope))
    if shown == "0":
        return "held level"
    verb = "grew" if slope > 0 else "fell"
    return f"{verb} {shown} {_unit(shown, unit)} {per}".replace("  ", " ")


def _unit(shown: str, unit: str) -> str:
    return "point" if unit == "points" and shown == "1" else unit


def _signed(value: float) -> str:
    shown = _num(abs(value))
    if shown == "0":
        return "0"
    return f"+{shown}" if value > 0 else f"-{shown}"


def _num(value: float) -> str:
    shown = f"{value:.2f}".rstrip("0").rstrip(".")
    if shown in ("0", "-0") and value:
        return f"{value:.2g}"
    return shown


_UNITS = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60))


def _span_words(span: timedelta) -> str:
    """'6 weeks', '10 days', '1 week'."""
    seconds = int(span.total_seconds())
    for name, size in _UNITS:
        if seconds and seconds % size == 0:
            return _plural(seconds // size, name)
    return _plural(max(seconds // 60, 0), "minute")


def _per_words(per: timedelta) -> str:
    """'a week', 'a day', 'every 2 weeks'."""
    words = _span_words(per)
    return f"a {words[2:]}" if words.startswith("1 ") else f"every {words}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _aware(moment: datetime, like: datetime) -> datetime:
    # Stores such as SQLite hand back naive datetimes; ours are always UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)
