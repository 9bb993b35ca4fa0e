"""The adoption funnel against hand-computed values."""

from __future__ import annotations

import pytest

from pilotscale.metrics.funnel import funnel


def _latest(department: str, segment: str, counts: tuple[float | None, ...]) -> dict:
    metrics = ("licensed_users", "activated_users", "weekly_active_users", "habitual_users")
    return {
        (department, segment, m): c for m, c in zip(metrics, counts, strict=True) if c is not None
    }


def test_segments_add_up_to_the_department_and_the_program() -> None:
    latest = {
        **_latest("finance", "power", (20, 18, 15, 12)),
        **_latest("finance", "casual", (80, 40, 20, 8)),
        **_latest("legal", "", (20, 10, 5, None)),  # legal reports the whole department only
    }

    rows = {(r.department, r.segment): r for r in funnel(latest, ["finance", "legal"])}

    assert rows[("finance", "")].counts == (100, 58, 35, 20)
    # 58/100 activated, 35/58 of those weekly active, 20/35 of those habitual
    assert rows[("finance", "")].step_rates == pytest.approx((None, 0.58, 35 / 58, 20 / 35))
    assert rows[("finance", "casual")].of_licensed == pytest.approx((1.0, 0.5, 0.25, 0.1))
    assert rows[("legal", "")].counts == (20, 10, 5, None)
    assert rows[("", "")].counts == (120, 68, 40, 20)  # habitual: only what was reported
    assert rows[("", "power")].counts == (20, 18, 15, 12)
    assert ("legal", "power") not in rows


def test_a_segment_missing_a_stage_does_not_look_like_a_drop() -> None:
    latest = {
        **_latest("finance", "power", (20, 18, 15, 12)),
        **_latest("finance", "casual", (80, 40, 20, None)),
    }

    whole = next(
        r for r in funnel(latest, ["finance"]) if r.department == "finance" and not r.segment
    )

    assert whole.counts == (100, 58, 35, None)
    assert whole.step_rates[3] is None


def test_no_data_no_rows_and_no_division_by_zero() -> None:
    assert funnel({}, ["finance"]) == []
    rows = funnel(_latest("finance", "", (0, 0, 0, 0)), ["finance"])
    assert rows[0].of_licensed == (None, None, None, None)
