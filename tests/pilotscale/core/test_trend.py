"""Trend gates: the least-squares slope, the direction rules and the sentences, by table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from pilotscale.core.facts import DepartmentFacts, Moments, Series
from pilotscale.core.gates import evaluate_gate
from pilotscale.core.states import Outcome
from pilotscale.core.trend import least_squares_slope, meets, slope_per
from pilotscale.plan.schema import TrendGate

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASS, FAIL, PENDING = Outcome.passed, Outcome.failed, Outcome.pending
WEEK = timedelta(weeks=1)


def gate(**overrides: Any) -> TrendGate:
    base: dict[str, Any] = {
        "name": "usage-growing",
        "kind": "trend",
        "title": "Usage keeps growing",
        "owner": "ana",
        "metric": "weekly_active_rate",
        "direction": "growing",
        "window": "6w",
        "min_samples": 4,
    }
    return TrendGate.model_validate(base | overrides)


def weekly(values: list[float], *, last: datetime = NOW) -> tuple[tuple[datetime, float], ...]:
    """One sample a week, the last one at `last`."""
    n = len(values)
    return tuple((last - (n - 1 - i) * WEEK, v) for i, v in enumerate(values))


def facts(
    samples: tuple[tuple[datetime, float], ...], *, point: float = 0.01, unit: str = "points"
) -> DepartmentFacts:
    return DepartmentFacts(
        department="hr",
        phase_entered_at=NOW - timedelta(days=90),
        series={"weekly_active_rate": Series(samples, point=point, unit=unit)},
    )


@pytest.mark.parametrize(
    ("points", "slope"),
    [
        ([], None),
        ([(0.0, 1.0)], None),
        ([(1.0, 1.0), (1.0, 5.0)], None),  # no spread in x: no line
        ([(0.0, 0.0), (1.0, 2.0)], 2.0),
        ([(0.0, 3.0), (1.0, 3.0), (2.0, 3.0)], 0.0),
        ([(0.0, 1.0), (1.0, 3.0), (2.0, 2.0), (3.0, 5.0)], 1.1),  # noisy: the fitted line
        ([(0.0, 10.0), (2.0, 6.0), (4.0, 2.0)], -2.0),
    ],
)
def test_least_squares_slope(points: list[tuple[float, float]], slope: float | None) -> None:
    found = least_squares_slope(points)
    if slope is None:
        assert found is None
    else:
        assert found == pytest.approx(slope)


@pytest.mark.parametrize(
    ("direction", "slope", "tolerance", "ok"),
    [
        ("growing", 0.5, 0.0, True),
        ("growing", 0.0, 0.0, False),
        ("growing", 1e-15, 0.0, False),  # float noise is flat, not growth
        ("growing", -0.5, 0.0, False),
        ("growing", 1.0, 1.0, False),  # at the edge of the flat band: not growth
        ("growing", 1.01, 1.0, True),
        ("stable", 0.0, 1.0, True),
        ("stable", 1.0, 1.0, True),
        ("stable", -1.0, 1.0, True),
        ("stable", 1.2, 1.0, False),
        ("stable", -1.2, 1.0, False),
        ("not_declining", 0.0, 0.0, True),
        ("not_declining", 3.0, 0.0, True),
        ("not_declining", -0.1, 0.0, False),
        ("not_declining", -1e-15, 0.0, True),
        ("not_declining", -0.5, 0.5, True),
        ("not_declining", -0.6, 0.5, False),
    ],
)
def test_direction_rules(direction: str, slope: float, tolerance: float, ok: bool) -> None:
    assert meets(direction, slope, tolerance) is ok


def test_slope_is_per_period_in_points() -> None:
    # A fraction rising 0.021 a week is 2.1 points a week; per day it is 0.3.
    samples = weekly([0.40, 0.421, 0.442, 0.463])
    assert slope_per(samples, per=WEEK, point=0.01) == pytest.approx(2.1)
    assert slope_per(samples, per=timedelta(days=1), point=0.01) == pytest.approx(0.3)
    assert slope_per(samples, per=WEEK, point=1.0) == pytest.approx(0.021)


RISING = [0.40, 0.421, 0.442, 0.463, 0.484, 0.505, 0.526]  # +2.1 points a week
FALLING = [0.60, 0.59, 0.58, 0.57, 0.56, 0.55]  # -1 point a week
FLAT = [0.50, 0.49, 0.51, 0.50, 0.49, 0.51]
OLD_HIGH = [0.9, 0.9, 0.5, 0.55, 0.6]


@pytest.mark.parametrize(
    ("overrides", "values", "outcome", "reason"),
    [
        (
            {},
            RISING,
            PASS,
            "weekly active rate grew 2.1 points a week over 6 weeks (6 samples): "
            "growing by more than 0 points a week",
        ),
        (
            {},
            FALLING,
            FAIL,
            "weekly active rate fell 1 point a week over 6 weeks (6 samples), needs growing "
            "by more than 0 points a week: ask Ana to find out why and act on it",
        ),
        ({"direction": "not declining"}, FLAT, PASS, "weekly active rate"),
        ({"direction": "not_declining"}, FALLING, FAIL, "fell 1 point a week"),
        (
            {"direction": "not declining", "tolerance": 1.5},
            FALLING,
            PASS,
            "not declining by more than 1.5 points a week",
        ),
        ({"direction": "stable", "tolerance": 0.5}, FLAT, PASS, "stable within 0.5 points"),
        ({"direction": "stable", "tolerance": 0.5}, RISING, FAIL, "needs stable within 0.5"),
        (
            {"how_to_fix": "ask the champions what changed"},
            FALLING,
            FAIL,
            ": ask the champions what changed",
        ),
        (
            {},
            [0.5, 0.6, 0.7],
            PENDING,
            "only 3 samples of weekly active rate in the last 6 weeks; a trend needs at "
            "least 4: ask Ana to send data",
        ),
        ({"min_samples": 3}, [0.5, 0.6, 0.7], PASS, "grew 10 points a week"),
        # Samples older than the window do not count: the first two are 7 and 8 weeks old.
        ({}, OLD_HIGH, PENDING, "only 3 samples"),
        ({"window": "10w"}, OLD_HIGH, FAIL, "over 10 weeks (5 samples)"),
        # Exactly 6 weeks old is outside a 6-week window (it ends now, starts after then).
        ({}, [0.1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], FAIL, "held level"),
    ],
)
def test_trend_gate(
    overrides: dict[str, Any], values: list[float], outcome: Outcome, reason: str
) -> None:
    samples = weekly(values)
    if values is OLD_HIGH:
        samples = ((NOW - 8 * WEEK, 0.9), (NOW - 7 * WEEK, 0.9), *weekly(values[2:]))
    result = evaluate_gate(gate(**overrides), facts(samples), now=NOW, owner_name="Ana")
    assert result.outcome is outcome, result.reason
    assert reason in result.reason
    assert result.kind == "trend"


def test_observed_and_threshold_text() -> None:
    result = evaluate_gate(gate(), facts(weekly(RISING)), now=NOW, owner_name="Ana")
    assert result.observed == pytest.approx(2.1)
    assert result.observed_text == "+2.1 points a week (6 samples)"
    assert result.threshold_text == (
        "growing by more than 0 points a week over 6 weeks, at least 4 samples"
    )


@pytest.mark.parametrize(
    ("series", "reason"),
    [
        (None, "only 0 samples"),
        (((NOW, 0.5),) * 5, "all taken at the same moment"),
    ],
)
def test_pending_without_a_direction(
    series: tuple[tuple[datetime, float], ...] | None, reason: str
) -> None:
    given = facts(series) if series is not None else DepartmentFacts("hr", NOW)
    result = evaluate_gate(gate(), given, now=NOW, owner_name="Ana")
    assert result.outcome is PENDING
    assert reason in result.reason


def test_a_failed_source_is_pending() -> None:
    given = DepartmentFacts("hr", NOW, metric_errors={"weekly_active_rate": "HTTP 503"}, series={})
    result = evaluate_gate(gate(), given, now=NOW, owner_name="Ana")
    assert (result.outcome, result.observed_text) == (PENDING, "source failed: HTTP 503")


def test_counts_in_their_own_unit() -> None:
    given = facts(weekly([100, 110, 120, 130]), point=1.0, unit="tickets")
    result = evaluate_gate(
        gate(direction="not declining", min_samples=3), given, now=NOW, owner_name="Ana"
    )
    assert result.outcome is PASS
    assert "grew 10 tickets a week" in result.reason


def test_samples_after_now_do_not_count() -> None:
    later = weekly([0.9, 0.1, 0.1, 0.1], last=NOW + 3 * WEEK)
    given = facts(weekly([0.4, 0.5, 0.6, 0.7]) + later[1:])
    assert evaluate_gate(gate(), given, now=NOW, owner_name="Ana").outcome is PASS


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"direction": "stable"}, "a 'stable' trend needs a tolerance above 0"),
        ({"direction": "down"}, "direction"),
        ({"min_samples": 2}, "min_samples"),
        ({"tolerance": -1}, "tolerance"),
    ],
)
def test_schema_refuses(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        gate(**overrides)


@pytest.mark.parametrize(
    "values",
    [
        [0.40, 0.421, 0.442, 0.463],
        [0.6, 0.1, 0.9, 0.3, 0.5],
        [100.0, 100.0, 100.0],
    ],
)
def test_the_stores_sums_give_the_same_slope_as_the_samples(values: list[float]) -> None:
    # The store hands moments (sums over ages in days), the table above samples: one line.
    samples = weekly(values, last=NOW - timedelta(hours=5))
    from_sums = Moments.of(samples, NOW).slope_per_day()
    by_rows = slope_per(samples, per=timedelta(days=1), point=1.0)
    assert from_sums == pytest.approx(by_rows, abs=1e-12)
    given = DepartmentFacts(
        "hr",
        NOW,
        series={
            "weekly_active_rate": Series(
                point=0.01,
                unit="points",
                moments={int(timedelta(weeks=6).total_seconds()): Moments.of(samples, NOW)},
            )
        },
    )
    direct = evaluate_gate(gate(min_samples=3), facts(samples), now=NOW, owner_name="Ana")
    summed = evaluate_gate(gate(min_samples=3), given, now=NOW, owner_name="Ana")
    assert (summed.outcome, summed.reason) == (direct.outcome, direct.reason)


@pytest.mark.parametrize(
    ("samples", "slope"),
    [
        ((), None),
        (((NOW, 0.5),), None),
        (((NOW, 0.5), (NOW, 0.9), (NOW, 0.1)), None),  # one moment: no line
        (((NOW - timedelta(days=1), 0.5), (NOW, 0.6)), 0.1),
    ],
)
def test_moments_without_a_line(
    samples: tuple[tuple[datetime, float], ...], slope: float | None
) -> None:
    found = Moments.of(samples, NOW).slope_per_day()
    if slope is None:
        assert found is None
    else:
        assert found == pytest.approx(slope)
