"""The adoption chart stays readable and cheap at any size: up to MAX_LINES departments a
line each; above, the average of all, the band of their middle 80 % and the LOWEST_SHOWN
lowest, and its title says so."""

from __future__ import annotations

import statistics
from datetime import date, timedelta

import pytest

from pilotscale.report import charts

DAYS = [date(2026, 11, 1) + timedelta(days=k) for k in range(10)]


def _series(count: int) -> dict[str, list[tuple[date, float]]]:
    return {
        f"Department {i:04d}": [(day, ((i * 31 + k * 7) % 100) / 100) for k, day in enumerate(DAYS)]
        for i in range(count)
    }


def test_above_the_cap_the_chart_draws_a_summary_and_says_so() -> None:
    series = _series(300)

    svg = charts.adoption_chart(series, [("Pilot gate", 0.5)], title="Weekly active", percent=True)

    names = [name for name in series if name in svg]
    assert len(names) == charts.LOWEST_SHOWN
    assert "average of 300 departments" in svg
    assert "middle 80 %" in svg
    assert "gate: Pilot gate (50%)" in svg
    # a drawn line per shown department, the average and the threshold: not 300
    assert svg.count("<path") < 60


def test_up_to_the_cap_every_department_has_its_line() -> None:
    series = _series(charts.MAX_LINES)

    svg = charts.adoption_chart(series, [], title="Weekly active", percent=True)

    assert all(name in svg for name in series)
    assert "average of" not in svg


def test_the_summary_is_the_mean_the_middle_80_percent_and_the_lowest_now() -> None:
    series = _series(50)

    summary = charts.summarise(series, lowest=3)

    assert summary.departments == 50
    for k, day in enumerate(DAYS):
        values = [points[k][1] for points in series.values()]
        assert summary.average[k] == (day, pytest.approx(statistics.fmean(values)))
        deciles = statistics.quantiles(values, n=10, method="inclusive")
        assert summary.band[k] == (day, pytest.approx(deciles[0]), pytest.approx(deciles[-1]))
    last = sorted((points[-1][1], name) for name, points in series.items())
    assert list(summary.lowest) == [name for _, name in last[:3]]
