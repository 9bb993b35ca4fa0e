"""A dry run shows exactly what the check or the rollout would write, and writes nothing:
every table compares equal before and after, and the real run then does what was shown."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from pilotscale.core.decisions import Action
from pilotscale.engine.check import CheckReport, run_readiness_check
from pilotscale.engine.dry_run import dry_run
from pilotscale.engine.start import RolloutResult, rollout_program
from pilotscale.notifications.render import configured_renderer
from tests.pilotscale.engine import helpers as h
from tests.plans import LEAD, plan_dict

DEPT = "d001"
CHECK = h.day(10)


def every_row(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal only if nothing at all changed."""
    with Session(engine) as session:
        return {
            name: sorted((tuple(r) for r in session.execute(select(table))), key=repr)
            for name, table in SQLModel.metadata.tables.items()
        }


def test_a_dry_check_writes_nothing_and_shows_what_the_check_then_does(engine: Engine) -> None:
    h.into_piloting(engine, plan_dict(3), departments=("d001", "d002"))
    at = CHECK
    h.observe(engine, DEPT, [0.6, 0.7, 0.8], start=at - timedelta(hours=5))
    h.complete(engine, DEPT, "power", now=at - timedelta(hours=1))
    h.attest(engine, DEPT, "guardrails", now=at - timedelta(hours=1))
    h.approve(engine, DEPT, now=at - timedelta(hours=1))
    before = every_row(engine)

    shown = dry_run(
        engine=engine,
        now=at,
        act=lambda bound: run_readiness_check(engine=bound, now=at, run_id="dry"),
    )

    assert every_row(engine) == before
    actions = {d.department: d.action for d in shown.result.decisions}
    assert actions["d001"] is Action.advance
    assert actions["d002"] is Action.hold
    assert shown.messages, "a check that advances and holds queues messages"

    done: CheckReport = run_readiness_check(engine=engine, now=at, run_id="real")
    assert {d.department: d.action for d in done.decisions} == actions
    assert done.enqueued == len(shown.messages)
    renderer = configured_renderer()
    real = sorted((n.event, n.recipient_key, n.channel,
                   renderer.subject(n.event, json.loads(n.context_json)))
                  for n in h.outbox(engine) if n.created_at == at)  # fmt: skip
    assert real == sorted((m.event, m.recipient, m.channel, m.subject) for m in shown.messages)


def test_a_dry_rollout_starts_nothing_and_shows_who_would_start(engine: Engine) -> None:
    h.apply(engine, plan_dict(4))
    before = every_row(engine)

    shown = dry_run(
        engine=engine,
        now=h.T0,
        act=lambda bound: rollout_program(engine=bound, now=h.T0, actor=LEAD),
    )

    assert every_row(engine) == before
    would = sorted(s.department for s in shown.result.started)
    assert would, "the plan's first wave may start"
    assert shown.messages  # welcome kits, training assignments
    done: RolloutResult = rollout_program(engine=engine, now=h.T0, actor=LEAD)
    assert sorted(s.department for s in done.started) == would
    assert shown.result.waiting == done.waiting
