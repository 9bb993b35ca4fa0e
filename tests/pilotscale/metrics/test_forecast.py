"""Forecasts of when a held department passes, on data with a known trend."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pilotscale.metrics import forecast
from pilotscale.plan.schema import MetricGate

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _gate(**changes: object) -> MetricGate:
    values = {
        "name": "weekly-active",
        "kind": "metric",
        "title": "t",
        "owner": "lead",
        "metric": "weekly_active_rate",
        "aggregate": "avg",
        "window": timedelta(days=14),
        "threshold": 0.6,
        "min_samples": 5,
    }
    return MetricGate.model_validate({**values, **changes})


def _daily(start: float, per_day: float, days: int = 28, noise: float = 0.0) -> list:
    rng = random.Random(7)
    return [
        (NOW - timedelta(days=k), start + per_day * (days - k) + rng.uniform(-noise, noise))
        for k in range(days, 0, -1)
    ]


def test_fit_recovers_a_line() -> None:
    trend = forecast.fit([(-2.0, 1.0), (-1.0, 2.0), (0.0, 3.0)])

    assert trend is not None
    assert (trend.slope, trend.value_now) == pytest.approx((1.0, 3.0))
    assert trend.clear


def test_a_rising_average_crosses_half_a_window_after_the_daily_values() -> None:
    # 0.30 four weeks ago, +0.005 a day: today's trend value is 0.44 - 0.005 = 0.435 at k=1...
    samples = _daily(0.30, 0.005)
    gate = _gate()

    result = forecast.metric_gate(gate, samples, NOW)

    # The daily values lie on y = 0.44 + 0.005·x (x days from now), so they reach 0.6 at
    # x = 32 days; a 14-day average lags 7 days behind: 39 days from now.
    assert result.when == NOW + timedelta(days=39)
    assert result.note.startswith("at the current trend (trend +0.005/day")


def test_a_flat_noisy_metric_is_not_at_the_current_trend() -> None:
    result = forecast.metric_gate(_gate(), _daily(0.41, 0.0, noise=0.04), NOW)

    assert result.when is None
    assert result.note == "not at the current trend (flat; needs >= 0.6)"


def test_a_falling_metric_never_gets_there() -> None:
    result = forecast.metric_gate(_gate(), _daily(0.55, -0.004), NOW)

    assert result.when is None
    assert "falling" in result.note


def test_a_failing_source_has_no_forecast() -> None:
    result = forecast.metric_gate(_gate(), _daily(0.3, 0.01), NOW, error="HTTP 503")

    assert (result.when, result.note) == (None, "its source is failing (HTTP 503)")


def test_too_few_samples_are_forecast_from_their_arrival_rate() -> None:
    gate = _gate(min_samples=20, threshold=0.1, window=timedelta(days=28))
    samples = [(NOW - timedelta(days=k), 0.5) for k in range(5, 0, -1)]  # one a day, 5 so far

    result = forecast.metric_gate(gate, samples, NOW)
    short = forecast.metric_gate(_gate(min_samples=20, threshold=0.1), samples, NOW)

    # 5 in the last 7 days → 5/7 a day; 15 more samples take 21 days.
    assert abs(result.when - (NOW + timedelta(days=21))) < timedelta(seconds=1)
    assert result.note == "at the current trend (enough samples)"
    # At 5/7 a day a 14-day window never holds more than 10: it never gets to 20.
    assert short.when is None
    assert short.note == "too few samples arrive: not at the current trend"


def test_a_sum_gate_follows_its_rolling_total() -> None:
    gate = _gate(aggregate="sum", window=timedelta(days=28), threshold=200, min_samples=1)
    samples = [(NOW - timedelta(days=k), 5.0) for k in range(20, 0, -1)]  # 5 a day for 20 days

    result = forecast.metric_gate(gate, samples, NOW)

    # The rolling 28-day total grows by 5 a day to 100 today: 200 in about 20 days.
    assert result.when is not None
    assert abs(result.when - (NOW + timedelta(days=20))) < timedelta(days=1)


def test_training_completions_follow_their_pace() -> None:
    done = [NOW - timedelta(days=k) for k in range(10, 0, -1)]  # one completion a day

    result = forecast.training("trained", 40, done, 0.5, NOW)

    # 10/40 done today, +1/40 a day: 20/40 in 10 days.
    assert result.when is not None
    assert abs(result.when - (NOW + timedelta(days=10))) < timedelta(hours=12)


def test_the_department_waits_for_its_last_gate() -> None:
    soon = forecast.GateForecast("a", NOW + timedelta(days=3), "x")
    later = forecast.soak("b", NOW, timedelta(days=10))
    person = forecast.waiting("c", "Ana Ruiz", "not attested")
    stuck = forecast.GateForecast("d", None, "not at the current trend")

    assert forecast.department([soon, later]).when == NOW + timedelta(days=10)
    assert (
        forecast.department([soon, later]).sentence
        == "passes around 2026-12-11 at the current trend"
    )
    assert forecast.department([soon, person]).sentence == (
        "passes when Ana Ruiz acts; the rest gets there by 2026-12-04"
    )
    assert forecast.department([soon, person, stuck]).sentence == "not at the current trend: d"
