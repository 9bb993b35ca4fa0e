"""Every user-supplied string, in every event, is escaped for its medium.

tests/notifications/test_render.py checks one event and one field; here every string
of every event's context (names, titles, reasons, how-to-fix text, links, comments)
is poisoned at once, and each medium must neutralise all of it: no live HTML or
`javascript:` link in email, no live markdown, mention or link in chat, no line break
in a subject. Hostile *templates* are tests/notifications/test_sandbox.py's subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from pilotscale.notifications.catalog import EVENTS
from pilotscale.notifications.render import Renderer
from pilotscale.notifications.samples import SAMPLES

# What a person (or a plan, or a metrics export) could put in any text field.
POISON = (
    "<img src=x onerror=alert(1)><script>alert(2)</script>"
    " @channel @here <!everyone> [click](javascript:alert(3)) **bold** `code`"
    " &amp; \r\nBcc: all@acme.example"
)
LIVE_HTML = ("<img src=x", "<script>", "onerror=alert(1)>")
LIVE_CHAT = ("@channel", "@here", "<!everyone>", "](javascript:", "**bold**", "<script>")


def poisoned(value: Any) -> Any:
    """`value` with POISON added to every string and URL-looking strings replaced."""
    if isinstance(value, dict):
        return {k: poisoned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [poisoned(v) for v in value]
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return "javascript:alert(4)//" + POISON
        return value + POISON
    return value


@pytest.mark.parametrize("event", EVENTS)
def test_every_string_of_every_event_is_escaped_in_every_medium(
    event: str, figure: Callable[[str], None]
) -> None:
    renderer = Renderer()
    context = poisoned(SAMPLES[event])

    email = renderer.email(event, context)
    chat = renderer.chat(event, context)

    for fragment in LIVE_HTML:
        assert fragment not in email.html, f"{event}: {fragment!r} is live in the HTML"
    assert "javascript:" not in email.html.replace("javascript:alert(3)", ""), event
    assert 'href="javascript' not in email.html, event
    assert "\n" not in email.subject, event
    assert "\r" not in email.subject, event
    # Inside an inline code span (a command to copy) markdown, links and mentions are
    # literal, and filters.code strips backticks, so no value can end the span early.
    prose = re.sub(r"`[^`\n]*`", "", chat)
    for fragment in LIVE_CHAT:
        assert fragment not in prose, f"{event}: {fragment!r} is live in the chat message"
    figure(f"{event}: {_strings(SAMPLES[event])} poisoned fields, 0 live in HTML, chat, subject")


def _strings(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_strings(v) for v in value.values())
    if isinstance(value, list):
        return sum(_strings(v) for v in value)
    return int(isinstance(value, str))
