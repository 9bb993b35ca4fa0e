"""The notification events pilotscale knows, and the template files each one has."""

from __future__ import annotations

from typing import Final, Literal

# One folder per event under notifications/templates/ (and in a user templates dir).
EVENTS: Final = (
    "champion_welcome",
    "training_assigned",
    "training_reminder",
    "gate_held",
    "approval_requested",
    "approval_reminder",
    "approval_escalation",
    "gate_stuck",
    "department_advanced",
    "department_blocked",
    "monitoring_regressed",
    "success_story",
    "weekly_digest",
    "delivery_failure",
    "approval_rejected",
    "barrier_reported",
    "gate_waived",
    "your_open_items",
)

# Messages nobody has to act on: their emails carry List-Unsubscribe (mail clients then
# offer "unsubscribe", which leads to the person's page rather than a spam report).
NON_ESSENTIAL: Final = frozenset({"success_story", "weekly_digest"})

SUBJECT: Final = "subject.txt"
EMAIL_HTML: Final = "email.html"
EMAIL_TEXT: Final = "email.txt"
CHAT: Final = "chat.md"
PARTS: Final = (SUBJECT, EMAIL_HTML, EMAIL_TEXT, CHAT)

Medium = Literal["email", "chat"]


def template_name(event: str, part: str) -> str:
    return f"{event}/{part}"
