"""The budget projection at full scale against hand-computed values."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotscale.metrics.budget import project
from pilotscale.plan.loader import load_plan
from tests.pilotscale.metrics.helpers import PLAN, plan

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "acme-ai-assistant.yaml"


def test_the_acme_example() -> None:
    acme = load_plan(EXAMPLE).plan
    projection = project(acme, started=["customer-service", "hr"])

    # 2,735 people: 420 + 180 + 640 + 95 + 1,400
    assert projection.users == 2735
    assert projection.licences == 6 * 12 * 2735 == 196_920
    assert projection.usage == 4500 * 12 == 54_000
    assert projection.support == 6000 * 12 == 72_000
    assert projection.training == 15 * 2735 == 41_025
    assert projection.annual_total == 363_945
    assert projection.ratio == pytest.approx(363_945 / 420_000)  # 0.867: fits
    assert projection.pilot_multiple == pytest.approx(363_945 / 36_000)  # 10.1* the pilot
    assert projection.warning() is None
    assert projection.jump_note() == (
        "full rollout costs 10.1× the pilot (above the 3–5× that moving from a pilot to the"
        " whole company typically costs)"
    )
    # HR: 180 * (72 + 15) + 126,000 * 180 / 2,735 = 15,660 + 8,292.50...
    hr = next(d for d in projection.departments if d.name == "hr")
    assert hr.annual == pytest.approx(15_660 + 126_000 * 180 / 2735)
    assert sum(d.annual for d in projection.departments) == pytest.approx(363_945)
    assert projection.in_flight == pytest.approx(
        sum(d.annual for d in projection.departments if d.name in ("customer-service", "hr"))
    )


def test_over_budget_warns() -> None:
    tight = plan(PLAN.replace("approved_scale_budget: 50000", "approved_scale_budget: 20000"))
    projection = project(tight)

    # 120 users: 14,400 licences + 6,000 usage + 3,000 support + 2,400 training
    assert projection.annual_total == 25_800
    assert projection.over_budget is True
    assert projection.warning() == (
        "full rollout is projected at EUR 25,800 a year, EUR 5,800 over the approved EUR 20,000 "
        "(ratio 1.29): cut the per-user price, phase the rollout, or get the budget re-approved"
    )
    assert project(plan()).warning() is None


def test_nothing_approved_has_no_ratio() -> None:
    projection = project(
        plan(PLAN.replace("approved_scale_budget: 50000", "approved_scale_budget: 0"))
    )

    assert projection.ratio is None
    assert projection.over_budget is True
