"""When will a held department pass, at its current trend?

For a metric gate a least-squares line is fitted over the last LOOKBACK days and
extended until it meets the threshold:

- for `avg`, `min`, `max` and `last` gates, through the daily means of the samples
  (the metric's own trend); the gate's window then lags behind it, so an average
  crosses half a window later and a minimum a whole window later;
- for `sum` and `count` gates, through the gate's aggregate as it stood at the end
  of each day (the rolling total is what must grow).

A trend counts only when its slope is clearly not noise (at least twice its
standard error) and it reaches the threshold within HORIZON; otherwise the answer
is "not at the current trend". Too few samples are forecast from the rate at which
samples arrive.

Soak gates end on a known date; training completion follows the same linear trend
of completions per day. Attestations, approvals, champions and support owners wait
on people: there is no trend to extend, and the forecast says who to ask.

Pure: samples, dates and gate definitions in; dates and sentences out.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

from pilotscale.core.facts import MetricAggregate
from pilotscale.plan.schema import MetricGate

LOOKBACK = timedelta(days=28)
HORIZON = timedelta(days=365)
MIN_POINTS = 3
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Trend:
    slope: float  # per day
    value_now: float  # the fitted value at x = 0 (now)
    stderr: float  # of the slope
    points: int

    @property
    def clear(self) -> bool:
        """The slope is at least twice its standard error: a direction, not noise."""
        return self.slope != 0 and abs(self.slope) >= 2 * self.stderr


@dataclass(frozen=True)
class GateForecast:
    gate: str
    when: datetime | None  # None: no date (see `waits_on` and `note`)
    note: str
    waits_on: str = ""  # a person's name when the gate waits for somebody to act


@dataclass(frozen=True)
class DepartmentForecast:
    when: datetime | None
    sentence: str
    gates: tuple[GateForecast, ...]


def fit(points: Sequence[tuple[float, float]]) -> Trend | None:
    """Least squares y = a + b·x over (x days from now, y); None for fewer than 3 points."""
    n = len(points)
    if n < MIN_POINTS:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx
    intercept = mean_y - slope * mean_x
    residual = sum((y - intercept - slope * x) ** 2 for x, y in points)
    stderr = math.sqrt(residual / (n - 2) / sxx) if n > 2 else math.inf
    return Trend(slope=slope, value_now=intercept, stderr=stderr, points=n)


def crossing(trend: Trend, threshold: float, op: str, now: datetime) -> datetime | None:
    """When the trend line meets `op threshold`, if it does within HORIZON."""
    rising = op in (">=", ">")
    if _meets(trend.value_now, op, threshold):
        return now
    if not trend.clear or (trend.slope > 0) != rising:
        return None
    days = (threshold - trend.value_now) / trend.slope
    when = now + timedelta(days=days)
    return when if when - now <= HORIZON else None


def rolling(
    samples: Sequence[tuple[datetime, float]],
    gate: MetricGate,
    now: datetime,
    lookback: timedelta = LOOKBACK,
) -> list[tuple[float, float]]:
    """(x days from now ≤ 0, the gate's aggregate as it stood then), one per day.

    Each day's window is cut from the samples in time order (two bisections), not found
    by a scan of them all: the same samples, in the same order among equal times, as the
    aggregate sorts them (stably) anyway."""
    points = []
    days = int(lookback / DAY)
    ordered = sorted(samples, key=itemgetter(0))
    times = [t for t, _ in ordered]
    for k in range(days, -1, -1):
        end = now - k * DAY
        inside = ordered[bisect_right(times, end - gate.window) : bisect_right(times, end)]
        value = MetricAggregate.of(inside).value(gate.aggregate) if inside else None
        if value is not None:
            points.append((float(-k), value))
    return points


def daily(
    samples: Sequence[tuple[datetime, float]], now: datetime, lookback: timedelta = LOOKBACK
) -> list[tuple[float, float]]:
    """(x days from now ≤ 0, the mean of that day's samples), for days with samples."""
    days: dict[int, list[float]] = {}
    for t, v in samples:
        if now - lookback < t <= now:
            days.setdefault(int((now - t) / DAY), []).append(v)
    return [(float(-k), sum(v) / len(v)) for k, v in sorted(days.items(), reverse=True)]


def metric_gate(
    gate: MetricGate, samples: Sequence[tuple[datetime, float]], now: datetime, error: str = ""
) -> GateForecast:
    if error:
        return GateForecast(gate.name, None, f"its source is failing ({error})")
    current = [(t, v) for t, v in samples if now - gate.window < t <= now]
    when_samples = _enough_samples(gate, samples, len(current), now)
    if when_samples is None:
        return GateForecast(gate.name, None, "too few samples arrive: not at the current trend")
    value = MetricAggregate.of(current).value(gate.aggregate) if current else None
    totals = gate.aggregate in ("sum", "count")
    trend = fit(rolling(samples, gate, now) if totals else daily(samples, now))
    lag = {"avg": gate.window / 2, "min": gate.window}.get(gate.aggregate, timedelta(0))
    when_value: datetime | None
    if value is not None and _meets(value, gate.op, gate.threshold):
        when_value = now
    elif trend is None:
        return GateForecast(gate.name, None, "too little history for a trend")
    else:
        crossed = crossing(trend, gate.threshold, gate.op, now)
        when_value = None if crossed is None else max(now, crossed + lag)
        if when_value is not None and when_value - now > HORIZON:
            when_value = None
    if when_value is None:
        direction = (
            "flat"
            if trend is None or not trend.clear
            else ("rising" if trend.slope > 0 else "falling")
        )
        return GateForecast(
            gate.name,
            None,
            f"not at the current trend ({direction}; needs {gate.op} {gate.threshold:g})",
        )
    when = max(when_value, when_samples)
    if when_samples > when_value:
        why = "enough samples"
    elif trend is not None and when_value > now:
        why = f"trend {trend.slope:+.3g}/day"
    else:
        why = "meets the threshold now"
    return GateForecast(gate.name, when, f"at the current trend ({why})")


def soak(gate: str, entered_at: datetime, duration: timedelta) -> GateForecast:
    return GateForecast(gate, entered_at + duration, "minimum time in the phase")


def training(
    gate: str,
    assigned: int,
    completed_at: Sequence[datetime],
    min_completion: float,
    now: datetime,
) -> GateForecast:
    if not assigned:
        return GateForecast(gate, None, "nothing assigned yet")
    done = [t for t in completed_at if t <= now]
    if len(done) / assigned >= min_completion:
        return GateForecast(gate, now, "completed")
    points = [
        (float(-k), sum(1 for t in done if t <= now - k * DAY) / assigned)
        for k in range(int(LOOKBACK / DAY), -1, -1)
    ]
    # The pace since completions began: the quiet days before would flatten it.
    begun = next((i for i, (_, share) in enumerate(points) if share > 0), len(points))
    trend = fit(points[max(0, begun - 1) :])
    when = crossing(trend, min_completion, ">=", now) if trend else None
    if when is None:
        return GateForecast(gate, None, "completions have stalled: not at the current trend")
    return GateForecast(gate, when, "at the current pace of completions")


def waiting(gate: str, who: str, what: str) -> GateForecast:
    return GateForecast(gate, None, what, waits_on=who)


def department(gates: Sequence[GateForecast]) -> DepartmentForecast:
    """The department passes when its last holding gate does."""
    stuck = [g for g in gates if g.when is None and not g.waits_on]
    people = [g for g in gates if g.waits_on]
    dated = [g.when for g in gates if g.when is not None]
    latest = max(dated) if dated else None
    if stuck:
        stuck_names = ", ".join(g.gate for g in stuck)
        return DepartmentForecast(None, f"not at the current trend: {stuck_names}", tuple(gates))
    if people:
        names = sorted({g.waits_on for g in people})
        verb = "acts" if len(names) == 1 else "act"
        tail = f"; the rest gets there by {latest:%Y-%m-%d}" if latest else ""
        return DepartmentForecast(
            None, f"passes when {', '.join(names)} {verb}{tail}", tuple(gates)
        )
    if latest is None:
        return DepartmentForecast(None, "nothing holds it", tuple(gates))
    return DepartmentForecast(
        latest, f"passes around {latest:%Y-%m-%d} at the current trend", tuple(gates)
    )


def _enough_samples(
    gate: MetricGate, samples: Sequence[tuple[datetime, float]], have: int, now: datetime
) -> datetime | None:
    """When the window will hold min_samples, at the rate samples arrived lately; None when
    that rate can never fill the window (samples also age out of it)."""
    if have >= gate.min_samples:
        return now
    span = min(gate.window, timedelta(days=7))
    per_day = sum(1 for t, _ in samples if now - span < t <= now) / (span / DAY)
    if per_day * (gate.window / DAY) < gate.min_samples:
        return None
    return now + timedelta(days=(gate.min_samples - have) / per_day)


def _meets(value: float, op: str, threshold: float) -> bool:
    tolerance = 1e-9 * max(1.0, abs(threshold))
    return {
        ">=": value >= threshold - tolerance,
        ">": value > threshold,
        "<=": value <= threshold + tolerance,
        "<": value < threshold,
    }[op]
