"""Rows the table tests need, written directly (no plan, no apply)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.models import Department, Program

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def make_department(engine: Engine, name: str = "hr") -> Department:
    """A committed program with one department at version 1."""
    with Session(engine, expire_on_commit=False) as session:
        program = Program(
            name=f"program-{name}", title="Program", plan_json="{}", plan_sha256="0" * 64
        )
        session.add(program)
        session.flush()
        assert program.id is not None
        department = Department(
            program_id=program.id,
            name=name,
            title=name.upper(),
            wave=1,
            headcount=100,
            phase="planned",
            definition_sha256="0" * 64,
            created_at=NOW,
            updated_at=NOW,
            phase_entered_at=NOW,
        )
        session.add(department)
        session.commit()
        return department
