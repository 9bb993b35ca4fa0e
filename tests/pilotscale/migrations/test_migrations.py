"""The hand-written migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Connection, Engine, Integer, MetaData, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session, SQLModel, select

from pilotscale.db import (
    alembic_config,
    current_revision,
    downgrade,
    get_engine,
    head_revision,
    upgrade,
)
from pilotscale.migrations import HEAD_REVISION
from pilotscale.models import (
    Approval,
    Attestation,
    Barrier,
    ChampionOnboarding,
    LinkUse,
    Program,
    Transition,
)

REPO = Path(__file__).resolve().parents[3]


def _schema_diffs(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_the_head_revision_known_without_alembic_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_a_command_on_a_store_at_the_head_does_not_import_alembic(
    engine: Engine, tmp_path: Path
) -> None:
    probe = (
        "import sys; from pilotscale.db import get_engine; get_engine(sys.argv[1]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe, engine.url.render_as_string(hide_password=False)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert found.stdout.strip() == "[]"


def test_migrations_apply_to_an_empty_database(store_url: str) -> None:
    engine = get_engine(store_url, migrate=False)
    assert current_revision(engine=engine) is None

    upgrade(engine=engine)

    assert current_revision(engine=engine) == head_revision()
    assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())


def test_upgrading_again_changes_nothing_and_keeps_data(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Program(name="kept", title="Kept", plan_json="{}", plan_sha256="x"))
        session.commit()

    upgrade(engine=engine)
    upgrade(engine=engine)

    assert current_revision(engine=engine) == head_revision()
    with Session(engine) as session:
        assert [p.name for p in session.exec(select(Program))] == ["kept"]


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert _schema_diffs(engine, SQLModel.metadata) == []


def test_schema_comparison_notices_a_difference(engine: Engine) -> None:
    # Guards the test above: a column the migrations lack must show up as a difference.
    metadata = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        table.to_metadata(metadata)
    metadata.tables["department"].append_column(Column("budget_owner", Integer()))

    diffs = _schema_diffs(engine, metadata)

    assert [(d[0], d[2], d[3].name) for d in diffs if isinstance(d, tuple)] == [
        ("add_column", "department", "budget_owner")
    ]


def test_downgrade_to_empty_and_back(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert current_revision(engine=engine) is None
    assert "department" not in inspect(engine).get_table_names()

    upgrade(engine=engine)

    assert _schema_diffs(engine, SQLModel.metadata) == []


# Imports first, then wait at a barrier (a file), so that every worker reaches the empty
# store within a millisecond of the others: without the migration lock most of them fail.
WORKER = """
import sys, time
from pathlib import Path
from pilotscale.db import current_revision, get_engine
barrier = Path(sys.argv[2])
(barrier / f"ready-{time.monotonic_ns()}").touch()
while not (barrier / "go").exists():
    time.sleep(0.001)
print(current_revision(engine=get_engine(sys.argv[1])))
"""


def test_processes_starting_together_migrate_once(store_url: str, tmp_path: Path) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    workers = 6
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store_url, str(barrier)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    deadline = time.monotonic() + 120
    while len(list(barrier.glob("ready-*"))) < workers and time.monotonic() < deadline:
        time.sleep(0.01)
    (barrier / "go").touch()
    results = [p.communicate(timeout=120) for p in processes]

    assert [p.returncode for p in processes] == [0] * workers, [err for _, err in results]
    assert [out.strip() for out, _ in results] == [head_revision()] * workers


# --------------------------------------------------------------------------- 0003

T = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _store_at_0002_with_rows(store_url: str) -> Engine:
    """A store migrated to 0002 holding a department with evidence and history, written
    as 0002's tables are (the current models have more columns)."""
    engine = get_engine(store_url, migrate=False)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    tables = MetaData()
    tables.reflect(bind=engine)

    def add(connection: Connection, table: str, **values: object) -> None:
        connection.execute(tables.tables[table].insert().values(**values))

    at = {"created_at": T, "updated_at": T}
    # Explicit ids only where rows refer to them: PostgreSQL's sequences do not see them.
    with engine.begin() as c:
        add(c, "program", id=1, name="p", title="P", timezone="UTC", plan_json="{}",
            plan_sha256="x", paused=False, applied_at=T, created_at=T)  # fmt: skip
        add(c, "department", id=1, program_id=1, name="hr", title="HR", wave=1, headcount=5,
            phase="piloting", status="active", version=3, phase_entered_at=T,
            consecutive_failures=0, definition_sha256="x", **at)  # fmt: skip
        add(c, "person", id=1, program_id=1, key="ana", name="Ana", email="ana@x.example",
            segment="power", notify="email")  # fmt: skip
        add(c, "approval", department_id=1, phase="piloting", gate="go", approver_key="exec",
            comment="ok", approved_at=T, phase_entered_at=T, os_user="op", via="cli")  # fmt: skip
        add(c, "attestation", department_id=1, phase="piloting", gate="guardrails",
            attested_by="compliance", evidence="doc", attested_at=T)  # fmt: skip
        add(c, "champion_onboarding", department_id=1, person_id=1, created_at=T,
            acknowledged_at=T)  # fmt: skip
        add(c, "transition", department_id=1, to_phase="piloting", to_status="active",
            event="advance", actor="scheduler", reason="", at=T, os_user="op")  # fmt: skip
    return engine


def test_0003_upgrades_a_0002_store_and_keeps_its_rows_as_cli_evidence(store_url: str) -> None:
    engine = _store_at_0002_with_rows(store_url)

    upgrade(engine=engine)

    assert current_revision(engine=engine) == HEAD_REVISION
    assert _schema_diffs(engine, SQLModel.metadata) == []
    with Session(engine) as session:
        (approval,) = session.exec(select(Approval)).all()
        assert (approval.approver_key, approval.comment, approval.decision) == (
            "exec",
            "ok",
            "approve",
        )
        assert (approval.identity_source, approval.acted_by, approval.on_behalf_reason) == (
            "cli",
            "",
            "",
        )
        (attestation,) = session.exec(select(Attestation)).all()
        assert (attestation.attested_by, attestation.identity_source, attestation.os_user) == (
            "compliance", "cli", "")  # fmt: skip
        (onboarding,) = session.exec(select(ChampionOnboarding)).all()
        assert onboarding.acknowledged_at == T
        assert (onboarding.declined_at, onboarding.decline_reason) == (None, "")
        (moved,) = session.exec(select(Transition)).all()
        assert (moved.actor, moved.identity_source, moved.on_behalf_of) == ("scheduler", "", "")
        # The approver may now reject, then approve, in the same visit: no unique key.
        session.add(Approval(department_id=1, phase="piloting", gate="go", approver_key="exec",
                             decision="reject", comment="not yet", approved_at=T,
                             phase_entered_at=T))  # fmt: skip
        session.add(Barrier(department_id=1, phase="piloting", reported_by="ana", text="slow"))
        session.add(LinkUse(nonce="n1", purpose="decide", person_key="exec", department_id=1))
        session.commit()
        assert len(session.exec(select(Approval)).all()) == 2
    with Session(engine) as session:
        session.add(LinkUse(nonce="n1", purpose="decide", person_key="exec"))
        with pytest.raises(IntegrityError):
            session.commit()
    with pytest.raises(DBAPIError), engine.begin() as connection:  # still append-only
        connection.execute(text("UPDATE transition SET identity_source = 'cli'"))


def test_0003_downgrades_to_0002_keeping_each_approvers_latest_approval(store_url: str) -> None:
    engine = _store_at_0002_with_rows(store_url)
    upgrade(engine=engine)
    with Session(engine) as session:
        for n, decision in enumerate(("reject", "approve")):
            session.add(Approval(department_id=1, phase="piloting", gate="go2", approver_key="exec",
                                 decision=decision, approved_at=T + timedelta(hours=n),
                                 phase_entered_at=T))  # fmt: skip
        session.add(Approval(department_id=1, phase="piloting", gate="go", approver_key="exec",
                             decision="reject", approved_at=T + timedelta(hours=1),
                             phase_entered_at=T))  # fmt: skip
        session.commit()
    downgrade(engine=engine, revision="0002")

    with engine.connect() as connection:
        rows = connection.execute(text("SELECT gate, approver_key FROM approval")).all()
    # 'go': the latest decision was a rejection, so no approval is left (the gate pends).
    assert sorted(tuple(r) for r in rows) == [("go2", "exec")]


# --------------------------------------------------------------------------- 0005


def test_0006_adds_pause_records_and_waivers_and_keeps_every_row(store_url: str) -> None:
    """A store with rows at 0005, brought to 0006: its rows stay, the program's pause
    flag keeps its value, and waivers and pause records can be written, then dropped by
    a downgrade to 0005 without touching the rest."""
    from pilotscale.models import Department, ProgramControl, Waiver

    engine = _store_at_0002_with_rows(store_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE program SET paused = :p"), {"p": True})
    upgrade(engine=engine)
    downgrade(engine=engine, revision="0005")  # the store as 0005 left it, rows and all
    assert current_revision(engine=engine) == "0005"

    upgrade(engine=engine)

    assert current_revision(engine=engine) == HEAD_REVISION
    assert _schema_diffs(engine, SQLModel.metadata) == []
    with Session(engine) as session:
        (program,) = session.exec(select(Program)).all()
        assert program.paused is True
        (department,) = session.exec(select(Department)).all()
        assert department.name == "hr"
        session.add(ProgramControl(program_id=1, event="pause", actor="lead", reason="x", at=T))
        session.add(
            Waiver(department_id=1, gate="go", phase="piloting", until=T + timedelta(days=3),
                   reason="away", actor="lead", at=T)
        )  # fmt: skip
        session.commit()
    with Session(engine) as session:
        (waiver,) = session.exec(select(Waiver)).all()
        assert (waiver.gate, waiver.until) == ("go", T + timedelta(days=3))

    downgrade(engine=engine, revision="0005")

    assert current_revision(engine=engine) == "0005"
    names = set(inspect(engine).get_table_names())
    assert {"waiver", "program_control"} & names == set()
    assert {"program", "department", "approval", "transition"} <= names
