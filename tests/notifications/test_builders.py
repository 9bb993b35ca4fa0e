"""The digest and alert builders: plain numbers in, messages with stable keys out."""

from __future__ import annotations

from datetime import date, timedelta

from pilotscale.notifications import alerts
from pilotscale.notifications import digest_messages as digest
from pilotscale.notifications.render import Renderer
from tests.notifications.helpers import NOW, plan


def test_the_digest_goes_to_sponsors_executives_and_the_lead_once_a_week() -> None:
    figures = digest.figures(plan(), {"tickets_avoided": 410.0}, {"tickets_avoided": 300.0})
    line = digest.DepartmentLine("finance", "Finance", "piloting", held_by=("People use it",))

    messages = digest.weekly_digest(
        plan(), week_start=date(2026, 11, 16), impact=figures, departments=[line], now=NOW
    )

    assert [m.recipient for m in messages] == ["ines.sponsor", "leo.lead", "dana.digest"]
    assert {m.about for m in messages} == {"helpdesk-bot:2026-11-16"}
    context = messages[0].context
    assert context["impact"] == [
        {
            "name": "tickets_avoided",
            "title": "Tickets avoided",
            "unit": "tickets",
            "value": 410.0,
            "previous": 300.0,
            "change": 110.0,
            "target": 500.0,
        }
    ]
    assert [(p["name"], p["count"]) for p in context["phases"]] == [
        ("planned", 0),
        ("piloting", 1),
        ("operating", 0),
    ]
    assert context["week"] == {
        "start": "2026-11-16",
        "end": "2026-11-22",
        "label": "week of 16 Nov 2026",
    }
    rendered = Renderer().email(
        "weekly_digest", {**context, "recipient": {"name": "Ines", "kind": "person"}}
    )
    assert rendered.subject == "Helpdesk bot weekly impact (week of 16 Nov 2026): 410 tickets"
    assert "410 tickets (+110 tickets on the week before), 82% of the 500 tickets target" in (
        rendered.text
    )


def test_one_alert_per_batch_with_a_key_that_depends_only_on_the_batch() -> None:
    dead = [
        alerts.DeadMessage(
            f"id-{i}", "gate_held", "ines.sponsor", "email", 6, "boom", NOW + timedelta(seconds=i)
        )
        for i in range(60)
    ]

    first = alerts.delivery_failure(plan(), dead=dead, now=NOW)
    again = alerts.delivery_failure(plan(), dead=list(reversed(dead)), now=NOW + timedelta(hours=1))
    other = alerts.delivery_failure(plan(), dead=dead[:1], now=NOW)

    assert first.recipient == "leo.lead"
    assert first.event == "delivery_failure"
    assert first.about == again.about != other.about
    assert (first.context["count"], first.context["more"], len(first.context["dead"])) == (
        60,
        10,
        50,
    )
