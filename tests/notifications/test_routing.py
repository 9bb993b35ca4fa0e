"""Each person's preference decides the channels; nobody is dropped without saying so."""

from __future__ import annotations

import pytest

from pilotscale.core.messages import Message
from pilotscale.notifications.routing import LOCAL, routes
from pilotscale.plan.loader import load_plan_text
from tests.notifications.helpers import PLAN, gate_held, plan


def _channels(recipient: str, event: str = "gate_held", text: str = PLAN) -> list[tuple[str, str]]:
    message = Message(event, recipient, "about", "finance", {})
    return [(r.channel, r.medium) for r in routes(load_plan_text(text).plan, message)]


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("ines.sponsor", [("email", "email")]),  # notify: email (the default)
        ("fran.champion", [("email", "email"), ("team-chat", "chat")]),  # both
        ("lola.champion", [("team-chat", "chat")]),  # chat
        ("dana.digest", [("email", "email")]),  # digest: but a held gate needs action
    ],
)
def test_preferences(person: str, expected: list[tuple[str, str]]) -> None:
    assert _channels(person) == expected


def test_digest_only_people_get_only_the_digest_and_what_needs_action() -> None:
    assert _channels("dana.digest", "department_advanced") == []
    assert _channels("dana.digest", "success_story") == []
    assert _channels("dana.digest", "weekly_digest") == [("email", "email")]
    assert _channels("dana.digest", "approval_requested") == [("email", "email")]


def test_a_department_channel_is_a_chat_route() -> None:
    (route,) = routes(plan(), gate_held("channel:finance-chat"))
    assert (route.channel, route.medium) == ("finance-chat", "chat")
    assert route.recipient == {
        "id": "channel:finance-chat",
        "name": "#finance-chat",
        "email": None,
        "chat": None,
        "kind": "channel",
    }


def test_chat_people_without_a_chat_channel_get_email() -> None:
    text = PLAN.replace("  chat_channel: team-chat\n", "")
    assert _channels("lola.champion", text=text) == [("email", "email")]
    assert _channels("fran.champion", text=text) == [("email", "email")]


def test_without_an_email_channel_email_goes_to_the_local_folder() -> None:
    text = PLAN.replace("  email_channel: email\n", "")
    assert _channels("ines.sponsor", text=text) == [(LOCAL, "email")]


def test_the_delivery_failure_alert_also_keeps_a_local_copy() -> None:
    assert _channels("leo.lead", "delivery_failure") == [("email", "email"), (LOCAL, "email")]


def test_an_unknown_person_is_skipped_not_raised() -> None:
    assert _channels("nobody.here") == []
