"""`pilotscale metrics import`: all or nothing, row-numbered problems, idempotent re-imports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.db import get_engine
from pilotscale.models import ChampionOnboarding, MetricObservation, Person, TrainingAssignment
from tests.pilotscale.metrics.helpers import observations, piloting, run

HEADER = "department,metric,value,observed_at,segment,person\n"


def _write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return name


def _store(store_url: str) -> Engine:
    engine = get_engine(store_url)
    piloting(engine)
    return engine


def test_bad_rows_are_all_reported_by_row_and_nothing_is_written(
    store_url: str, tmp_path: Path
) -> None:
    engine = _store(store_url)
    name = _write(
        tmp_path,
        "usage.csv",
        HEADER
        + "finance,weekly_active_rate,0.61,2026-11-03,,\n"
        + "finanse,weekly_active_rate,0.6,2026-11-03,,\n"
        + "legal,weekly_active_rat,abc,2026-11-31,,\n"
        + "legal,weekly_active_rate,0.5,,gold,\n",
    )

    result = run("metrics", "import", name, cwd=tmp_path, database_url=store_url)

    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "usage.csv:3: department: unknown department 'finanse'; did you mean 'finance'? "
        "(known: finance, legal)"
    )
    assert lines[1].startswith(
        "usage.csv:4: metric: unknown metric 'weekly_active_rat'; did you mean "
        "'weekly_active_rate'?"
    )
    assert lines[2] == "usage.csv:4: value: 'abc' is not a number (use '.' for decimals, e.g. 0.62)"
    assert lines[3].startswith("usage.csv:4: observed_at: '2026-11-31' is not an ISO 8601 date")
    assert lines[4] == "usage.csv:5: observed_at: missing value"
    assert lines[5].startswith("usage.csv:5: segment: 'gold' is not a segment")
    assert lines[-1] == "error: usage.csv: 6 problem(s); nothing was imported"
    assert observations(engine) == 0  # row 2 was valid, and still nothing was written


def test_a_reimport_adds_nothing_and_naive_times_are_program_time(
    store_url: str, tmp_path: Path
) -> None:
    engine = _store(store_url)
    name = _write(
        tmp_path,
        "usage.csv",
        HEADER
        + "finance,weekly_active_rate,0.61,2026-11-03T10:00,,\n"
        + "finance,weekly_active_rate,0.61,2026-11-03T10:00,,\n"  # the same row twice
        + "finance,weekly_active_rate,0.64,2026-11-04T10:00+00:00,power,u1\n"
        + "legal,time_saved_hours,12.5,2026-11-04,,\n",
    )

    first = run("metrics", "import", name, cwd=tmp_path, database_url=store_url)
    again = run("metrics", "import", name, cwd=tmp_path, database_url=store_url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "imported usage.csv: 4 rows — 3 new observations, 1 already recorded (ignored)"
    )
    assert again.stdout.strip() == (
        "imported usage.csv: 4 rows — 0 new observations, 4 already recorded (ignored)"
    )
    with Session(engine) as session:
        rows = session.exec(
            select(MetricObservation).order_by(col(MetricObservation.observed_at))
        ).all()
    # 10:00 in Madrid (UTC+1 in November) is 09:00 UTC; a date alone is local midnight.
    assert [(r.observed_at, r.segment, r.person_key, r.source) for r in rows] == [
        (datetime(2026, 11, 3, 9, 0, tzinfo=UTC), "", "", "usage.csv"),
        (datetime(2026, 11, 3, 23, 0, tzinfo=UTC), "", "", "usage.csv"),
        (datetime(2026, 11, 4, 10, 0, tzinfo=UTC), "power", "u1", "usage.csv"),
    ]


def test_json_array_and_json_lines(store_url: str, tmp_path: Path) -> None:
    engine = _store(store_url)
    records = [
        {
            "department": "finance",
            "metric": "time_saved_hours",
            "value": 3,
            "observed_at": f"2026-11-0{d}",
        }
        for d in range(3, 7)
    ]
    array = _write(tmp_path, "a.json", json.dumps(records, indent=2))
    lines = _write(
        tmp_path,
        "b.jsonl",
        "\n".join(json.dumps({**r, "metric": "weekly_active_rate", "value": 0.5}) for r in records),
    )

    first = run("metrics", "import", array, cwd=tmp_path, database_url=store_url)
    second = run("metrics", "import", lines, cwd=tmp_path, database_url=store_url)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert observations(engine, "time_saved_hours") == 4
    assert observations(engine, "weekly_active_rate") == 4


def test_unreadable_files_are_reported_not_raised(store_url: str, tmp_path: Path) -> None:
    engine = _store(store_url)
    latin1 = _write(
        tmp_path,
        "latin1.csv",
        (HEADER + "finance,time_saved_hours,1,2026-11-03,,José\n").encode("latin-1"),
    )
    broken = _write(tmp_path, "broken.json", '[{"department": "finance", "metric": ')
    unknown_field = _write(
        tmp_path,
        "extra.jsonl",
        json.dumps(
            {
                "department": "finance",
                "metric": "time_saved_hours",
                "value": 1,
                "observed_at": "2026-11-03",
                "observed": "x",
            }
        ),
    )

    results = [
        run("metrics", "import", n, cwd=tmp_path, database_url=store_url)
        for n in (latin1, broken, unknown_field)
    ]

    assert [r.returncode for r in results] == [2, 2, 2]
    assert results[0].stderr.startswith(
        "latin1.csv:2: not UTF-8 text: byte 0xE9 at character 43 (it looks like "
        "Latin-1/Windows-1252)"
    )
    assert results[1].stderr.startswith("broken.json:1: not valid JSON")
    assert results[2].stderr.startswith(
        "extra.jsonl:1: observed: unknown field; did you mean 'observed_at'?"
    )
    assert all("Traceback" not in r.stderr for r in results)
    assert observations(engine) == 0


def test_a_bad_header_is_reported_once(store_url: str, tmp_path: Path) -> None:
    _store(store_url)
    name = _write(tmp_path, "h.csv", "department,metric,valeu,observed_at\n" + "hr,x,1,2026\n" * 50)

    result = run("metrics", "import", name, cwd=tmp_path, database_url=store_url)

    assert result.returncode == 2
    assert result.stderr.splitlines()[:2] == [
        "h.csv:1: valeu: unknown column; did you mean 'value'? (columns: department, metric, "
        "value, observed_at, segment, person)",
        "h.csv:1: value: required column is missing (header: department, metric, valeu, "
        "observed_at)",
    ]


def test_lms_completions_and_acknowledgements(store_url: str, tmp_path: Path) -> None:
    engine = _store(store_url)
    _assign(engine, "fran", "full-course")
    lms = _write(
        tmp_path,
        "lms.csv",
        "person,module,completed_at\n"
        "fran@example.com,full-course,2026-11-05T12:00\n"
        "fran,full-course,2026-11-06T12:00\n"  # again, later: the first date stays
        "pat.casual@example.com,quick-start,2026-11-05\n",  # email case does not matter
    )
    bad = _write(
        tmp_path,
        "bad.csv",
        "person,module,completed_at\nfrann,full-course,2026-11-05\nfran,library,2026-11-05\n"
        "lola,full-course,2026-11-05\n",
    )
    acks = _write(
        tmp_path,
        "acks.csv",
        "department,champion,acknowledged_at\nfinance,fran,2026-11-03\nlegal,fran,2026-11-03\n",
    )
    good_acks = _write(
        tmp_path, "acks2.csv", "department,champion,acknowledged_at\nfinance,fran,2026-11-03\n"
    )

    refused = run(
        "metrics", "import", bad, "--kind", "training", cwd=tmp_path, database_url=store_url
    )
    first = run(
        "metrics", "import", lms, "--kind", "training", cwd=tmp_path, database_url=store_url
    )
    again = run(
        "metrics", "import", lms, "--kind", "training", cwd=tmp_path, database_url=store_url
    )
    wrong = run("metrics", "import", acks, "--kind", "acks", cwd=tmp_path, database_url=store_url)
    acked = run(
        "metrics", "import", good_acks, "--kind", "acks", cwd=tmp_path, database_url=store_url
    )

    assert refused.returncode == 2
    assert refused.stderr.splitlines()[:3] == [
        "bad.csv:2: person: unknown person 'frann'; did you mean 'fran'?: use a person id or "
        "email from the plan",
        "bad.csv:3: module: 'library' is self-service material, which is not tracked",
        "bad.csv:4: module: 'full-course' is not in legal's training plan (it is in finance's)",
    ]
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "imported lms.csv: 3 rows — 1 new completions, 1 already recorded (ignored), 1 with "
        "nothing to record them on yet",
        "  not recorded: pat has no assignment 'quick-start' yet (their department has not "
        "reached the phase that trains their segment)",
    ]
    assert again.stdout.splitlines()[0] == (
        "imported lms.csv: 3 rows — 0 new completions, 2 already recorded (ignored), 1 with "
        "nothing to record them on yet"
    )
    assert wrong.returncode == 2
    assert "acks.csv:3: champion: 'fran' is not a champion of legal" in wrong.stderr
    assert acked.returncode == 0, acked.stderr
    assert acked.stdout.strip() == "imported acks2.csv: 1 rows — 1 new acknowledgements"
    with Session(engine) as session:
        done = session.exec(select(TrainingAssignment.completed_at)).all()
        acknowledged = session.exec(select(ChampionOnboarding.acknowledged_at)).all()
    assert done == [datetime(2026, 11, 5, 11, 0, tzinfo=UTC)]
    # Local midnight in Madrid; Lola (legal) has not acknowledged.
    assert sorted(acknowledged, key=str) == [datetime(2026, 11, 2, 23, 0, tzinfo=UTC), None]


def test_a_large_file_is_streamed_and_written_once(store_url: str, tmp_path: Path) -> None:
    engine = _store(store_url)
    rows = 20_000
    lines = [
        f"finance,weekly_active_rate,0.5,2026-11-03T09:00:00+00:00,,u{n}\n" for n in range(rows)
    ]
    name = _write(tmp_path, "big.csv", HEADER + "".join(lines))

    result = run("metrics", "import", name, cwd=tmp_path, database_url=store_url)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported big.csv: {rows:,} rows — {rows:,} new observations"
    assert observations(engine) == rows


def _assign(engine: Engine, person: str, module: str) -> None:
    """A training assignment, as entering a phase with deliver_training creates one."""
    with Session(engine) as session, session.begin():
        row = session.exec(select(Person).where(col(Person.key) == person)).one()
        session.add(
            TrainingAssignment(
                department_id=row.department_id or 0,
                person_id=row.id or 0,
                segment=row.segment,
                module_id=module,
                assigned_at=datetime(2026, 11, 2, tzinfo=UTC),
                due_at=datetime(2026, 11, 16, tzinfo=UTC),
            )
        )
