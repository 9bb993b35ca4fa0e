"""The write lower bound writes what pilotscale's readiness check writes (nothing is timed):
two stores generated alike, one checked by pilotscale, the other by the bound."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, text

from bench.generate import NOW, generate
from bench.lower_bound import differences, signature
from bench.lower_bound_writes import write_lower_bound
from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.check import run_readiness_check
from tests.conftest import PG_HOST, PG_MAINTENANCE_URL, PG_PORT

DEPARTMENTS = 12
TABLES = (
    "transition",
    "gate_result",
    "champion_onboarding",
    "training_assignment",
    "notification",
    "notification_item",
)


@pytest.fixture
def twin(store_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A second new store of the same kind as `engine`'s."""
    if store_url.startswith("sqlite"):
        yield get_engine(f"sqlite:///{tmp_path / 'twin' / 'pilotscale.db'}")
        return
    name = f"pilotscale_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield get_engine(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}")
    finally:
        dispose_engines()
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rounded(value: Any) -> Any:
    """Floats to 9 significant digits: the two sum the same observations in another order
    (pilotscale reads whole days from the daily roll-up), so the last bits may differ."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def bag(rows: Any) -> list[tuple[Any, ...]]:
    """Rows in an order that tolerates NULLs."""
    return sorted((tuple(rounded(list(r))) for r in rows), key=repr)


def written(engine: Engine) -> dict[str, Any]:
    """What a check leaves that both must agree on (ids and row order aside)."""
    with engine.connect() as c:
        out: dict[str, Any] = {
            table: c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES
        }
        out["departments"] = bag(
            c.execute(
                text(
                    "SELECT name, phase, status, version, consecutive_failures, last_check_key "
                    "FROM department"
                )
            ).all()
        )
        out["transitions"] = bag(
            c.execute(
                text("SELECT department_id, from_phase, to_phase, to_status, event FROM transition")
            ).all()
        )
        out["gate_results"] = bag(
            c.execute(
                text(
                    "SELECT department_id, phase, gate, outcome, observed_text, reason, owner "
                    "FROM gate_result"
                )
            ).all()
        )
        out["outbox"] = {
            key: (event, recipient, channel, subject, rounded(json.loads(context)))
            for key, event, recipient, channel, subject, context in c.execute(
                text(
                    "SELECT dedupe_key, event, recipient_key, channel, subject, context_json "
                    "FROM notification"
                )
            )
        }
    return out


def test_the_write_lower_bound_writes_the_rows_the_check_writes(
    engine: Engine, twin: Engine
) -> None:
    generate(engine=engine, departments=DEPARTMENTS)
    generate(engine=twin, departments=DEPARTMENTS)
    before = written(engine)

    report = run_readiness_check(engine=engine, now=NOW)
    bound = write_lower_bound(engine=twin, now=NOW)

    expected, found = written(engine), written(twin)
    assert differences(signature(report.decisions), signature(bound.decisions)) == []
    assert {t: found[t] for t in TABLES} == {t: expected[t] for t in TABLES}
    assert found["notification"] == report.enqueued > 100
    assert set(found["outbox"]) == set(expected["outbox"])
    assert found == expected
    # Every kind of write is exercised: moves, entry actions, messages.
    for table in ("transition", "training_assignment"):
        assert expected[table] > before[table], table


def test_they_still_agree_at_the_next_days_check(engine: Engine, twin: Engine) -> None:
    """The second check reads what the first wrote: pending streaks, skipped departments,
    and messages already queued (dedupe keys)."""
    generate(engine=engine, departments=DEPARTMENTS)
    generate(engine=twin, departments=DEPARTMENTS)
    run_readiness_check(engine=engine, now=NOW)
    write_lower_bound(engine=twin, now=NOW)

    later = NOW + timedelta(days=1)
    report = run_readiness_check(engine=engine, now=later)
    bound = write_lower_bound(engine=twin, now=later)

    assert differences(signature(report.decisions), signature(bound.decisions)) == []
    assert written(twin) == written(engine)
