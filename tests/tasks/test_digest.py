"""The weekly digest as the scheduled flow queues it: figures, phases and moves of the week."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from pilotscale.engine.digest_queue import queue_weekly_digest
from pilotscale.notifications.digest_messages import recipients
from pilotscale.report.data import read_report
from pilotscale.report.headline import headline
from tests.pilotscale.engine.helpers import (
    day,
    into_piloting,
    observe,
    outbox,
)
from tests.plans import loaded, plan_dict


def _plan() -> dict[str, Any]:
    data = plan_dict(2)
    data["program"]["kpis"] = [
        {"name": "weekly_active_rate", "title": "Weekly active rate", "unit": "fraction"}
    ]
    return data


def test_the_digest_reports_the_week_to_every_sponsor_and_executive(engine: Engine) -> None:
    data = _plan()
    into_piloting(engine, data)  # d001 advanced into piloting at PILOTING_AT
    observe(engine, "d001", [0.6, 0.7, 0.8], start=day(3))

    result = queue_weekly_digest(engine=engine, now=day(4), program=None)

    plan = loaded(data).plan
    assert result.week_start == (day(4) - timedelta(days=7)).date()
    assert result.recipients == len(recipients(plan))
    queued = outbox(engine, event="weekly_digest")
    assert {n.recipient_key for n in queued} == set(recipients(plan))
    assert result.enqueued == len(queued)
    context = json.loads(queued[0].context_json)
    [impact] = context["impact"]
    assert impact["name"] == "weekly_active_rate"
    assert 0.6 <= impact["value"] <= 0.8
    assert [(d["name"], d["phase"]) for d in context["departments"]] == [
        ("d001", "piloting"),
        ("d002", "planned"),
    ]
    assert context["departments"][0]["held_by"]  # piloting gates are not met yet
    assert context["advanced"] == [{"department": "Department 1", "to_phase_title": "piloting"}]


def test_the_same_week_is_queued_once_and_the_next_week_again(engine: Engine) -> None:
    into_piloting(engine, _plan())

    first = queue_weekly_digest(engine=engine, now=day(4), program=None)
    again = queue_weekly_digest(engine=engine, now=day(4) + timedelta(hours=3), program=None)
    next_week = queue_weekly_digest(engine=engine, now=day(11), program=None)

    assert first.enqueued > 0
    assert again.enqueued == 0
    assert next_week.enqueued == first.enqueued
    # Moves older than the week are not reported again.
    latest = max(outbox(engine, event="weekly_digest"), key=lambda n: n.created_at)
    assert json.loads(latest.context_json)["advanced"] == []


def test_the_digest_opens_with_the_reports_headline_and_words(engine: Engine) -> None:
    into_piloting(engine, _plan())

    queue_weekly_digest(engine=engine, now=day(4), program=None)

    report = read_report(engine=engine, program=None, now=day(4), with_charts=False)
    lead = headline(report)
    context = json.loads(outbox(engine, event="weekly_digest")[0].context_json)
    assert context["headline"]["text"] == lead.text
    assert lead.text.startswith("0 of 2 departments operating and 1 held (1 not started)")
    assert [(t["label"], t["value"]) for t in context["headline"]["tiles"]] == [
        ("operating", 0),
        ("in flight", 0),
        ("held", 1),
        ("blocked", 0),
    ]
    assert [d["state"] for d in context["departments"]] == ["held", "not started"]


def test_the_digest_email_opens_with_the_headline_and_the_live_board(engine: Engine) -> None:
    from pilotscale.notifications.render import get_renderer

    into_piloting(engine, _plan())
    queue_weekly_digest(engine=engine, now=day(4), program=None)
    context = json.loads(outbox(engine, event="weekly_digest")[0].context_json)
    recipient = {"kind": "person", "name": "Elena", "id": "exec"}
    renderer = get_renderer()

    with_board = renderer.render(
        "weekly_digest/email.txt",
        {**context, "recipient": recipient, "links": {"board": "https://board.example/"}},
    )
    without = renderer.render(
        "weekly_digest/email.txt", {**context, "recipient": recipient, "links": {}}
    )

    headline_at = with_board.index(context["headline"]["text"])
    assert headline_at < with_board.index(
        "The live board, as it stands now: https://board.example/"
    )
    assert with_board.index("The live board") < with_board.index("Impact")
    assert "0 operating · 0 in flight · 1 held · 0 blocked" in without
    assert "The live board" not in without
