"""Datetimes go in as any aware time and always come back as aware UTC, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session, select

from pilotscale.models import Program


def test_aware_datetimes_come_back_as_the_same_instant_in_utc(engine: Engine) -> None:
    madrid_summer = timezone(timedelta(hours=2))
    applied = datetime(2026, 6, 1, 11, 30, 15, 123456, tzinfo=madrid_summer)
    with Session(engine) as session:
        session.add(
            Program(name="p", title="P", plan_json="{}", plan_sha256="x", applied_at=applied)
        )
        session.commit()

    with Session(engine) as session:
        stored = session.exec(select(Program)).one()

    assert stored.applied_at == applied
    assert stored.applied_at.tzinfo is UTC
    assert stored.applied_at.hour == 9
    assert stored.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            Program(
                name="p",
                title="P",
                plan_json="{}",
                plan_sha256="x",
                applied_at=datetime(2026, 1, 1),
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_comparisons_in_sql_use_utc(engine: Engine) -> None:
    # Stored from a +02:00 value, found by a UTC bound: the instant, not the wall clock, counts.
    local = datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as session:
        session.add(Program(name="p", title="P", plan_json="{}", plan_sha256="x", applied_at=local))
        session.commit()
        after = datetime(2026, 6, 1, 9, 59, tzinfo=UTC)
        before = datetime(2026, 6, 1, 10, 1, tzinfo=UTC)
        found = session.exec(
            select(Program).where(Program.applied_at > after, Program.applied_at < before)
        ).all()
    assert [p.name for p in found] == ["p"]
