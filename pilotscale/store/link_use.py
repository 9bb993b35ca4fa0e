"""Single-use links: the nonce of each signed link acted on, recorded in the action's own
transaction (so the link counts as used if and only if the action was recorded)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from pilotscale.models import LinkUse
from pilotscale.store.insert import insert_ignore


def claim_link(
    *,
    session: Session,
    nonce: str,
    purpose: str,
    person_key: str,
    department_id: int | None,
    now: datetime,
) -> datetime | None:
    """Record the link's use; None when this is its first use, else when it was used.

    ON CONFLICT DO NOTHING on the primary key: of two concurrent uses, the second waits
    for the first's commit, then inserts nothing and is told so.
    """
    row = {
        "nonce": nonce,
        "purpose": purpose,
        "person_key": person_key,
        "department_id": department_id,
        "used_at": now,
    }
    if insert_ignore(session=session, model=LinkUse, rows=[row]):
        return None
    used = session.exec(select(LinkUse.used_at).where(col(LinkUse.nonce) == nonce)).first()
    return used or now


def used_at(*, session: Session, nonce: str) -> datetime | None:
    """When the link with `nonce` was acted on, or None if it never was."""
    return session.exec(select(LinkUse.used_at).where(col(LinkUse.nonce) == nonce)).first()
