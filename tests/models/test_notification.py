"""Every notification is queued once per dedupe key, under its own UUID."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from pilotscale.models import Notification, NotificationStatus
from tests.models.helpers import make_department


def _notification(program_id: int, key: str) -> Notification:
    return Notification(
        dedupe_key=key,
        program_id=program_id,
        event="gate_failed",
        recipient_key="ana.ruiz",
        channel="email",
        subject="hr/piloting",
    )


def test_a_dedupe_key_is_queued_once(engine: Engine) -> None:
    program_id = make_department(engine).program_id
    key = "gate_failed|hr/piloting|ana.ruiz|email"
    with Session(engine) as session:
        session.add(_notification(program_id, key))
        session.commit()
        session.add(_notification(program_id, key))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.add(_notification(program_id, key.replace("email", "chat")))
        session.commit()

        rows = session.exec(select(Notification)).all()
    assert len(rows) == 2
    assert len({row.id for row in rows}) == 2
    assert all(uuid.UUID(row.id).version == 4 for row in rows)
    assert {row.status for row in rows} == {NotificationStatus.pending}
