"""KPI actuals and impact totals against hand-computed values."""

from __future__ import annotations

import math

import pytest

from pilotscale.metrics.kpis import MetricStats, department_impact, program_impact, use_case_kpis
from tests.pilotscale.metrics.helpers import PLAN, plan

CLOSING = (
    "      - {name: closing, title: Month-end closing, kpis: [{kpi: time_saved_hours, "
    "target: 300}]}\n"
)
STATS = {
    # finance: 4 observations of hours saved (10 + 20 + 30 + 40), 2 of them this week
    ("finance", "time_saved_hours"): MetricStats(
        count=4, total=100.0, recent_count=2, recent_total=70.0
    ),
    ("legal", "time_saved_hours"): MetricStats(
        count=1, total=25.0, recent_count=1, recent_total=25.0
    ),
    # rates: only this week's average counts (0.7 and 0.4)
    ("finance", "weekly_active_rate"): MetricStats(
        count=9, total=4.5, recent_count=2, recent_total=1.4
    ),
    ("legal", "weekly_active_rate"): MetricStats(
        count=3, total=1.2, recent_count=1, recent_total=0.4
    ),
}


def test_program_totals_and_the_headcount_weighted_rate() -> None:
    figures = {k.kpi: k for k in program_impact(plan(), STATS)}

    assert figures["time_saved_hours"].actual == 125.0
    assert figures["time_saved_hours"].progress == pytest.approx(125 / 1000)
    assert figures["time_saved_hours"].met is False
    # (0.7 * 100 people + 0.4 * 20 people) / 120 people = 78 / 120 = 0.65 ≥ 0.6
    assert figures["weekly_active_rate"].actual == pytest.approx(0.65)
    assert figures["weekly_active_rate"].met is True
    assert figures["weekly_active_rate"].rate is True


def test_a_figure_that_is_not_finite_is_no_figure_and_never_met() -> None:
    broken = {
        ("finance", "time_saved_hours"): MetricStats(count=2, total=math.inf),
        ("finance", "weekly_active_rate"): MetricStats(
            count=25, total=math.inf, recent_count=25, recent_total=math.inf
        ),
    }

    figures = {k.kpi: k for k in program_impact(plan(), broken)}
    finance = {k.kpi: k for k in department_impact(plan(), broken)["finance"]}

    assert figures["time_saved_hours"].actual is None
    assert figures["weekly_active_rate"].met is None
    assert finance["time_saved_hours"].actual is None
    assert finance["weekly_active_rate"].met is None


def test_a_kpi_nobody_reported_has_no_value_not_zero() -> None:
    figures = {k.kpi: k for k in program_impact(plan(), {})}

    assert figures["time_saved_hours"].actual is None
    assert figures["time_saved_hours"].progress is None
    assert figures["time_saved_hours"].met is None


def test_department_targets_add_up_their_use_cases() -> None:
    text = PLAN.replace(
        CLOSING,
        CLOSING
        + "      - {name: audit, title: Audit prep, kpis: [{kpi: time_saved_hours, target: 200},\n"
        "                                               {kpi: weekly_active_rate, target: 0.5}]}\n",
    )
    finance = {k.kpi: k for k in department_impact(plan(text), STATS)["finance"]}
    legal = {k.kpi: k for k in department_impact(plan(text), STATS)["legal"]}

    assert (finance["time_saved_hours"].actual, finance["time_saved_hours"].target) == (
        100.0,
        500.0,
    )
    assert finance["weekly_active_rate"].actual == pytest.approx(0.7)
    assert finance["weekly_active_rate"].target == 0.5
    assert finance["weekly_active_rate"].met is True
    assert legal["time_saved_hours"].target is None  # legal has no use case with that KPI


def test_use_cases_share_their_department_actual() -> None:
    rows = use_case_kpis(plan(), STATS)

    assert [(r.department, r.use_case, r.kpi.kpi, r.kpi.actual, r.kpi.target) for r in rows] == [
        ("finance", "closing", "time_saved_hours", 100.0, 300.0)
    ]
    assert rows[0].kpi.progress == pytest.approx(1 / 3)


def test_lower_is_better_kpis() -> None:
    text = PLAN.replace(
        "    - {name: time_saved_hours, title: Time saved, unit: hours, target: 1000}\n",
        "    - {name: time_saved_hours, title: Handling time, unit: hours, target: 150,\n"
        "       direction: down}\n",
    )
    figure = {k.kpi: k for k in program_impact(plan(text), STATS)}["time_saved_hours"]

    assert figure.met is True  # 125 ≤ 150
    assert figure.progress == pytest.approx(150 / 125)
