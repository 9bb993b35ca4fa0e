"""Vocabulary shared by the pure core, the store and the CLI."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where a department stands besides its ordered phase (the side states)."""

    active = "active"  # moving through phases; readiness checks evaluate it
    paused = "paused"  # an operator paused it; checks skip it until resumed
    blocked = "blocked"  # too many failing checks; escalated, needs a resume
    rolled_back = "rolled_back"  # returned to an earlier phase; needs a resume
    aborted = "aborted"  # mini-pilot stopped for good (until rolled back)


class Outcome(StrEnum):
    passed = "pass"
    failed = "fail"
    pending = "pending"  # no data or too few samples: never a pass


class NotificationStatus(StrEnum):
    """Where an outbox row stands (pilotscale.models.Notification.status). Here, not beside
    the table, so that `pilotscale outbox --help` lists them without loading SQLModel."""

    pending = "pending"
    sending = "sending"  # leased by a sender until lease_until
    sent = "sent"
    uncertain = "uncertain"  # the channel may have received it; never retried blindly
    dead = "dead"  # gave up after too many attempts
