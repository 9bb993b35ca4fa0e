"""The hand-written migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, inspect
from sqlmodel import Session, SQLModel, select

from pilotscale.db import alembic_config, current_revision, get_engine, head_revision, upgrade
from pilotscale.migrations import HEAD_REVISION
from pilotscale.models import Program

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
