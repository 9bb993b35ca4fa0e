"""Signed, expiring, single-purpose links: how a person who has no CLI acts from a message.

A link names one purpose (acknowledge the champion role, approve or reject a gate, ...),
one person, one department, one gate (or none) and the department's current phase visit
(when it entered its phase). It is signed with the key from the environment
(`PILOTSCALE_LINK_SECRET`) or a Prefect Secret block (`PILOTSCALE_LINK_SECRET_BLOCK`),
never with anything in the store, the plan or a URL, and it expires. A link carries a
random nonce: the action it leads to records the nonce in the same transaction as the
action, so a link is used once.

Verifying a link proves who it was sent to, nothing more: whether that person may still
act (the department moved on, the gate is not theirs) is the engine's question.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from pilotscale.redact import register
from pilotscale.refusal import Forbidden

if TYPE_CHECKING:
    from pilotscale.settings import Settings

# Short enough that a forwarded email stops working soon, long enough for a two-week
# phase: the department page says how to get a fresh link (any later message has one).
DEFAULT_MAX_AGE = timedelta(days=14)


class Purpose(StrEnum):
    """What a link lets its person do; the purpose is part of the signature (its salt),
    so a link for one purpose is refused for any other."""

    acknowledge = "acknowledge"  # a champion accepts the role, or declines it with a reason
    attest = "attest"  # a gate owner attests with evidence
    decide = "decide"  # an approver approves or rejects, with a comment
    operate = "operate"  # a sponsor pauses or resumes their department, with a reason
    barrier = "barrier"  # anyone in the department reports a barrier
    mine = "mine"  # opens the person's own "my actions" page (read only)


class LinkRefused(Forbidden):
    """The link is tampered, expired, for another purpose, or no key is configured."""


@dataclass(frozen=True)
class Link:
    purpose: Purpose
    person: str  # the plan's person id
    department: str = ""
    gate: str = ""
    # ISO timestamp of the department's entry into its current phase: a link for a visit
    # the department has left is refused by the engine, not here.
    visit: str = ""
    nonce: str = ""

    def claims(self) -> dict[str, str]:
        return {
            "u": self.person,
            "d": self.department,
            "g": self.gate,
            "v": self.visit,
            "n": self.nonce,
        }


def visit_key(entered_at: datetime | None) -> str:
    """The visit identifier put in links, from `Department.phase_entered_at`."""
    if entered_at is None:
        return ""
    if entered_at.tzinfo is None:
        entered_at = entered_at.replace(tzinfo=UTC)
    return entered_at.astimezone(UTC).isoformat(timespec="microseconds")


def new_nonce() -> str:
    return _random.token_urlsafe(12)


class Signer:
    """Makes and reads links with one key. Build it with `from_settings()` in production."""

    def __init__(self, key: str, *, max_age: timedelta = DEFAULT_MAX_AGE) -> None:
        if len(key) < 16:
            raise ValueError("the link signing key must be at least 16 characters")
        self._key = key
        self.max_age = max_age

    def __repr__(self) -> str:  # never the key, in a traceback or a log line
        return f"Signer(max_age={self.max_age})"

    def derived_key(self, label: str) -> bytes:
        """A key for another use (the web app's CSRF tokens), derived from the link key so
        that one secret is configured, never equal to it and never revealing it."""
        return hmac.new(self._key.encode(), f"pilotscale.{label}".encode(), hashlib.sha256).digest()

    def _serializer(self, purpose: Purpose) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._key, salt=f"pilotscale.link.{purpose.value}")

    def sign(self, link: Link) -> str:
        """The token for `link` (a fresh nonce when it has none)."""
        nonce = link.nonce or new_nonce()
        claims = {**link.claims(), "n": nonce}
        return str(self._serializer(link.purpose).dumps(claims))

    def read(self, purpose: Purpose, token: str, *, now: datetime | None = None) -> Link:
        """The link `token` stands for, or LinkRefused saying why in plain words."""
        serializer = self._serializer(purpose)
        try:
            # The age is checked against `now` (a caller's clock: simulations, tests), not
            # the machine's; the signature is checked by itsdangerous either way.
            claims: Any
            claims, signed_at = serializer.loads(token, return_timestamp=True)
        except SignatureExpired:  # pragma: no cover - no max_age is given to loads
            raise LinkRefused(
                "this link has expired; the next message about it carries a fresh one"
            ) from None
        except BadSignature:
            raise LinkRefused(
                "this link is not valid (it was changed, cut short, or is for another action)"
            ) from None
        moment = now or datetime.now(UTC)
        if moment - signed_at > self.max_age:
            raise LinkRefused(
                "this link has expired; the next message about it carries a fresh one"
            )
        if not isinstance(claims, dict) or not all(
            isinstance(claims.get(k), str) for k in ("u", "d", "g", "v", "n")
        ):
            raise LinkRefused("this link is not valid (its content is not a pilotscale link)")
        return Link(
            purpose=purpose,
            person=claims["u"],
            department=claims["d"],
            gate=claims["g"],
            visit=claims["v"],
            nonce=claims["n"],
        )


def from_settings(settings: Settings | None = None) -> Signer | None:
    """The configured signer, or None when no key is configured (messages then tell
    people to ask the program lead, and the web app refuses every action link)."""
    from pilotscale.secrets import load_prefect_secret
    from pilotscale.settings import get_settings

    settings = settings or get_settings()
    key: str | None = None
    if settings.link_secret is not None:
        key = settings.link_secret.get_secret_value()
    elif settings.link_secret_block:
        key = load_prefect_secret(settings.link_secret_block)
    if not key:
        return None
    # Masked in any error or log line, wherever the key came from (a Prefect Secret too).
    register(key)
    return Signer(key, max_age=timedelta(days=settings.link_max_age_days))


# The web app's addresses, one place for the messages that link to them and the app that
# serves them (pilotscale.web's routes use the same shapes).
def action_path(purpose: Purpose, token: str) -> str:
    """`/a/PURPOSE/TOKEN`; the `mine` purpose opens `/me/TOKEN` instead."""
    if purpose is Purpose.mine:
        return f"/me/{token}"
    return f"/a/{purpose.value}/{token}"


def department_path(department: str) -> str:
    return f"/d/{department}"


def absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path
