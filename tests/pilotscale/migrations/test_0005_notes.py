"""0005 adds the note table to a 0004 store, keeps its rows, and downgrades cleanly."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import MetaData, inspect
from sqlmodel import Session, SQLModel, select

from pilotscale.db import alembic_config, current_revision, downgrade, get_engine, upgrade
from pilotscale.migrations import HEAD_REVISION
from pilotscale.models import Department, Note
from tests.pilotscale.migrations.test_migrations import _schema_diffs

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_0005_adds_notes_to_a_0004_store_and_downgrades(store_url: str) -> None:
    engine = get_engine(store_url, migrate=False)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    tables = MetaData()
    tables.reflect(bind=engine)
    assert "note" not in tables.tables
    with engine.begin() as c:
        c.execute(tables.tables["program"].insert().values(
            id=1, name="p", title="P", timezone="UTC", plan_json="{}", plan_sha256="x",
            paused=False, applied_at=T, created_at=T))  # fmt: skip
        c.execute(tables.tables["department"].insert().values(
            id=1, program_id=1, name="hr", title="HR", wave=1, headcount=5, phase="piloting",
            status="active", version=3, phase_entered_at=T, consecutive_failures=0,
            definition_sha256="x", created_at=T, updated_at=T))  # fmt: skip

    upgrade(engine=engine)

    assert current_revision(engine=engine) == HEAD_REVISION
    assert _schema_diffs(engine, SQLModel.metadata) == []
    with Session(engine) as session:
        (dept,) = session.exec(select(Department)).all()
        assert (dept.name, dept.version) == ("hr", 3)
        session.add(Note(department_id=1, phase="piloting", written_by="ana", text="learned"))
        session.commit()
        (note,) = session.exec(select(Note)).all()
        assert (note.written_by, note.identity_source, note.acted_by) == ("ana", "cli", "")

    downgrade(engine=engine, revision="0004")
    assert "note" not in inspect(engine).get_table_names()
    assert current_revision(engine=engine) == "0004"
