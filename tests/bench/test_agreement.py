"""The benchmark's own parts agree with pilotscale (a smoke test; nothing is timed)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from bench.generate import NOW, build_plan, generate
from bench.lower_bound import differences, lower_bound, signature
from pilotscale.engine.check import prepare_check, run_readiness_check
from pilotscale.plan.crosscheck import crosscheck


def test_the_lower_bound_reaches_pilotscales_decisions(engine: Engine) -> None:
    generate(engine=engine, departments=5)

    expected = signature(prepare_check(engine=engine, now=NOW).decisions)
    found = signature(lower_bound(engine=engine, now=NOW))

    assert differences(expected, found) == []
    assert len(found) == 5
    # A store where every department gets the same action would prove little.
    assert len({action for action, _ in found.values()}) >= 3


def test_they_still_agree_once_the_check_has_applied_its_decisions(engine: Engine) -> None:
    generate(engine=engine, departments=5)
    run_readiness_check(engine=engine, now=NOW)

    expected = signature(prepare_check(engine=engine, now=NOW).decisions)
    found = signature(lower_bound(engine=engine, now=NOW))

    assert differences(expected, found) == []
    # Departments the check advanced are left alone until the next check.
    assert "skip" in {action for action, _ in found.values()}


def test_the_generated_plan_passes_the_plan_cross_checks() -> None:
    loaded, found = build_plan(12)

    assert crosscheck(loaded.plan) == []
    assert {case.phase for case in found} >= {"preparing", "piloting", "scaling", "operating"}


def test_the_generated_plan_depends_only_on_the_seed() -> None:
    first, _ = build_plan(8, seed=1)
    again, _ = build_plan(8, seed=1)
    other, _ = build_plan(8, seed=2)

    assert first.sha256 == again.sha256
    assert first.sha256 != other.sha256


def test_signatures_agree_up_to_the_order_of_a_sum() -> None:
    from bench.lower_bound import same_signature

    def held(adoption: float, outcome: str = "fail", soak: float | None = None) -> Any:
        return ("hold", (("adoption", outcome, adoption), ("soak", "pending", soak)))

    one = held(0.3254125)
    as_json = ["hold", [["adoption", "fail", 0.3254125], ["soak", "pending", None]]]

    assert same_signature(one, held(0.3254125000000001))  # summed in another order
    assert same_signature(one, as_json)
    assert not same_signature(one, held(0.3255))
    assert not same_signature(one, held(0.3254125, "pass"))
    assert not same_signature(one, ("block", one[1]))
    assert not same_signature(one, held(0.3254125, soak=1.0))
    assert not same_signature(one, None)


def test_the_grouping_count_adds_up_the_items_of_the_grouped_messages(engine: Engine) -> None:
    """The bench reports messages before and after grouping: after is the outbox; before
    counts one message per item of each grouped message, so it is larger by exactly the
    items folded away, and the check grouped something."""
    import json

    from sqlmodel import Session, select

    from bench.worker import grouping
    from pilotscale.core.messages import GROUPED
    from pilotscale.models import Notification

    generate(engine=engine, departments=12)
    run_readiness_check(engine=engine, now=NOW)

    found = grouping(engine)
    with Session(engine) as session:
        rows = session.exec(select(Notification.event, Notification.context_json)).all()
    listed = [json.loads(c) for e, c in rows if e == GROUPED]
    assert found["rows"] == len(rows)
    assert found["grouped_rows"] == len(listed) > 0
    assert found["items"] == sum(len(c["items"]) + c["more"] for c in listed)
    assert found["before"] == len(rows) - len(listed) + found["items"] > found["rows"]
