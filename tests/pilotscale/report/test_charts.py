"""The adoption chart stays readable and cheap at any size: up to MAX_LINES departments a
line each; above, the average of all, the band of their middle 80 % and the LOWEST_SHOWN
lowest, and its title says so."""

from __future__ import annotations

import re
import statistics
from datetime import date, timedelta

import pytest

from pilotscale.metrics.budget import BudgetProjection
from pilotscale.metrics.kpis import KpiActual
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


def _ticks(svg: str) -> list[str]:
    """The text of every tick label and annotation, as the SVG writes it (text stays text)."""
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.mark.parametrize("highest", [0.8, 0.42, 1.3, 1.5])
def test_the_kpi_axis_runs_to_the_data_not_beyond(highest: float) -> None:
    kpis = [
        KpiActual("a", "Time saved", "hours", False, "up", highest * 100, 100),
        KpiActual("b", "Rate", "fraction", True, "up", 0.1, 1.0),
    ]
    svg = charts.kpi_chart(kpis)

    percents = [int(t[:-1]) for t in _ticks(svg) if re.fullmatch(r"\d+%", t)]
    # The axis reaches the target line or the longest bar, with room for its label only:
    # at 80 % it used to run to 160 %.
    reach = 100 * max(1.0, highest)
    assert reach <= max(percents) + 25
    assert max(percents) <= reach * 1.3
    assert "target (100 %)" in svg


def test_the_budget_chart_labels_the_approved_line_and_keeps_its_legend_off_the_axis() -> None:
    budget = BudgetProjection("EUR", 100, 200_000, 50_000, 20_000, 10_000, 420_000, 60_000, ())
    svg = charts.budget_chart(budget)

    assert svg.count("approved scale budget EUR 420,000") >= 2  # on the line and in the legend
    assert "EUR per year" in svg
    legend_y = _y_of(svg, "Licences: 200,000")
    axis_label_y = _y_of(svg, "EUR per year")
    assert legend_y < axis_label_y  # the legend sits above the plot, the label below it


@pytest.mark.parametrize(("highest", "top"), [(0.45, "50%"), (0.8, "90%"), (0.97, "100%")])
def test_the_adoption_axis_scales_to_the_data(highest: float, top: str) -> None:
    series = {"HR": [(DAYS[0], highest / 2), (DAYS[1], highest)]}
    svg = charts.adoption_chart(series, [("Pilot gate", 0.3)], title="Weekly active", percent=True)

    percents = [int(t[:-1]) for t in _ticks(svg) if re.fullmatch(r"\d+%", t)]
    assert f"{max(percents)}%" == top
    assert "gate: Pilot gate (30%)" in svg


def test_a_chart_carries_its_text_alternative() -> None:
    svg = charts.labelled("<svg viewBox='0 0 1 1'><g/></svg>", 'Sales <b> & "HR" 62%')

    assert svg.startswith(
        '<svg viewBox=\'0 0 1 1\' role="img" aria-label="Sales &lt;b&gt; &amp; &quot;HR&quot; 62%">'
    )
    assert "<title>Sales &lt;b&gt; &amp; &quot;HR&quot; 62%</title>" in svg
    assert charts.labelled("", "x") == ""


def _y_of(svg: str, text: str) -> float:
    """The y of the text's anchor: matplotlib writes it in the <text> element's transform
    or attributes, the first number pair after its x."""
    at = svg.index(text)
    opening = svg.rindex("<text", 0, at)
    found = re.search(r'translate\(([-\d.]+)[ ,]+([-\d.]+)\)|y="([-\d.]+)"', svg[opening:at])
    assert found, svg[opening:at]
    return float(found.group(2) or found.group(3))
