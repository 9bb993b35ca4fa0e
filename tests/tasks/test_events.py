"""The Prefect events a readiness check announces, from real checks on a real store."""

from __future__ import annotations

from sqlalchemy import Engine

from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import (
    CheckReport,
    apply_check,
    prepare_check,
    run_readiness_check,
)
from pilotscale.tasks.prefect_events import events_for
from tests.pilotscale.engine.helpers import (
    apply,
    day,
    into_piloting,
    observe,
    prepare_passes,
    start,
)
from tests.plans import PROGRAM, plan_dict


def _three_outcomes(engine: Engine) -> CheckReport:
    """d001 piloting with a failing metric (failure_limit 1: blocked), d002 preparing with
    its use cases not attested yet (held), d003 preparing with every gate passing
    (advanced)."""
    _before_three_outcomes(engine)
    return run_readiness_check(engine=engine, now=day(5))


def _before_three_outcomes(engine: Engine) -> None:
    data = plan_dict(3, failure_limit=1)
    into_piloting(engine, data, departments=("d001",))
    apply(engine, data)
    start(engine, ["d002", "d003"], now=day(3))
    for champion in ("d002-champ1", "d002-champ2"):
        operator.acknowledge(
            engine=engine, department=champion[:4], actor=cli_actor(champion), now=day(3)
        )
    prepare_passes(engine, "d003", now=day(3))
    observe(engine, "d001", [0.1, 0.1, 0.1], start=day(4))


def test_each_applied_decision_is_announced_about_its_department(engine: Engine) -> None:
    report = _three_outcomes(engine)

    events = {e.resource["pilotscale.department"]: e for e in events_for(report)}

    assert {d: e.event for d, e in events.items()} == {
        "d001": "pilotscale.department.blocked",
        "d002": "pilotscale.department.held",
        "d003": "pilotscale.department.advanced",
    }
    advanced = events["d003"]
    assert advanced.resource["prefect.resource.id"] == f"pilotscale.department.{PROGRAM}.d003"
    assert advanced.related == [
        {
            "prefect.resource.id": f"pilotscale.program.{PROGRAM}",
            "prefect.resource.role": "program",
            "prefect.resource.name": PROGRAM,
        }
    ]
    assert (advanced.payload["from_phase"], advanced.payload["to_phase"]) == (
        "preparing",
        "piloting",
    )
    assert advanced.payload["holding"] == []
    held = events["d002"].payload
    assert [h["gate"] for h in held["holding"]] == ["use-cases"]
    assert events["d001"].payload["status"] == "blocked"
    assert "weekly-active" in [h["gate"] for h in events["d001"].payload["holding"]]


def test_the_same_check_again_announces_the_same_events(engine: Engine) -> None:
    first = events_for(_three_outcomes(engine))
    again = run_readiness_check(engine=engine, now=day(5.1))

    # d001 is blocked now, d003 entered its phase in this check: neither is decided
    # again, but their transitions are still the check's, announced with the same ids
    # (the emit task sends none the server holds; a lost one is sent by the next run).
    assert [d.department for d in again.applied() if d.action != "skip"] == ["d002"]
    assert {e.id: e.event for e in events_for(again)} == {e.id: e.event for e in first}


def test_a_losing_racer_announces_what_the_winner_committed(engine: Engine) -> None:
    _before_three_outcomes(engine)
    winner, loser = (prepare_check(engine=engine, now=day(5)) for _ in range(2))
    won = apply_check(engine=engine, prepared=winner, run_id="winner")

    lost = apply_check(engine=engine, prepared=loser, run_id="loser")

    assert sorted(lost.conflicts) == ["d001", "d003"]  # d002 was only held: held again
    # The loser reads the winner's transitions back from the store, gate results and
    # all: the same events, to the payload, as the winner's own decisions gave.
    assert events_for(lost) == events_for(won)


def test_untouched_departments_are_not_announced(engine: Engine) -> None:
    apply(engine, plan_dict(2))

    report = run_readiness_check(engine=engine, now=day(1))

    assert [d.action for d in report.decisions] == ["skip", "skip"]
    assert events_for(report) == []
