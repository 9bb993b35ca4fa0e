"""`pilotscale metrics import` refuses numbers and times outside their domain, row by row,
and writes nothing: a 1e308, a negative count, 17.5 for a rate, the year 9999."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pilotscale.db import get_engine
from pilotscale.metrics.timeparse import parse_moment
from tests.pilotscale.metrics.helpers import PLAN, observations, piloting, run

HEADER = "department,metric,value,observed_at,segment,person\n"
AS_OF = "2026-11-05T00:00+00:00"
AMOUNT = (
    "0 to 1,000,000,000 (a count or amount: declare min or max under metrics for another range)"
)


def _import(tmp_path: Path, store_url: str, text: str, *args: str) -> tuple[int, list[str]]:
    (tmp_path / "usage.csv").write_text(HEADER + text, encoding="utf-8")
    result = run("metrics", "import", "usage.csv", *args, cwd=tmp_path, database_url=store_url)
    assert "Traceback" not in result.stderr
    return result.returncode, result.stderr.splitlines()


def test_the_attacks_numbers_and_dates_are_located_problems_and_nothing_is_written(
    store_url: str, tmp_path: Path
) -> None:
    engine = get_engine(store_url)
    piloting(engine)

    code, lines = _import(
        tmp_path,
        store_url,
        "finance,time_saved_hours,1e308,2026-11-03,,\n"
        "finance,time_saved_hours,1e308,2026-11-04,,\n"
        "legal,licensed_users,-3,2026-11-03,,\n"
        "legal,weekly_active_rate,17.5,2026-11-03,,\n"
        "finance,weekly_active_rate,0.6,9999-01-01,,\n"
        "finance,weekly_active_rate,0.6,9999-12-31T23:00-05:00,,\n"
        "finance,weekly_active_rate,0.6,2015-06-01,,\n"
        "finance,weekly_active_rate,0.6,2026-11-03,,\n",  # the one valid row
        "--as-of",
        AS_OF,
    )

    assert code == 2
    assert lines == [
        f"usage.csv:2: value: 1e+308 is outside the range of time_saved_hours, {AMOUNT}",
        f"usage.csv:3: value: 1e+308 is outside the range of time_saved_hours, {AMOUNT}",
        f"usage.csv:4: value: -3 is outside the range of licensed_users, {AMOUNT}",
        "usage.csv:5: value: 17.5 is outside the range of weekly_active_rate, 0 to 1 (a "
        "fraction: write 62 % as 0.62, or declare the metric with unit: percent)",
        "usage.csv:6: observed_at: 9998-12-31 23:00 UTC is more than a day after 2026-11-05 "
        "00:00 UTC, the moment of this import (see --as-of)",
        "usage.csv:7: observed_at: '9999-12-31T23:00-05:00' is out of range for a date",
        "usage.csv:8: observed_at: 2015-05-31 22:00 UTC is more than ten years before "
        "2026-11-05 00:00 UTC, the moment of this import (see --as-of)",
        "error: usage.csv: 7 problem(s); nothing was imported",
    ]
    assert observations(engine) == 0


def test_the_moment_of_an_import_is_now_unless_as_of_says_otherwise(
    store_url: str, tmp_path: Path
) -> None:
    engine = get_engine(store_url)
    piloting(engine)
    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M+00:00")
    row = f"finance,weekly_active_rate,0.6,{soon},,\n"

    refused, lines = _import(tmp_path, store_url, row)
    later = (datetime.now(UTC) + timedelta(days=4)).isoformat()
    accepted, _ = _import(tmp_path, store_url, row, "--as-of", later)

    assert refused == 2
    assert lines[0].startswith("usage.csv:2: observed_at: ")
    assert "is more than a day after" in lines[0]
    assert accepted == 0
    assert observations(engine) == 1


def test_declared_ranges_and_percentages_are_what_an_import_checks(
    store_url: str, tmp_path: Path
) -> None:
    engine = get_engine(store_url)
    piloting(
        engine,
        PLAN.replace(
            "  - {name: licensed_users}\n",
            "  - {name: licensed_users, max: 5000}\n"
            "  - {name: nps, unit: score, min: -100, max: 100}\n"
            "  - {name: answer_share, unit: percent}\n",
        ),
    )

    code, lines = _import(
        tmp_path,
        store_url,
        "finance,nps,-40,2026-11-03,,\n"
        "finance,answer_share,55,2026-11-03,,\n"
        "finance,answer_share,150,2026-11-03,,\n"
        "finance,licensed_users,5001,2026-11-03,,\n",
        "--as-of",
        AS_OF,
    )
    valid, _ = _import(
        tmp_path,
        store_url,
        "finance,nps,-40,2026-11-03,,\nfinance,answer_share,55,2026-11-03,,\n"
        "finance,licensed_users,5000,2026-11-03,,\n",
        "--as-of",
        AS_OF,
    )

    assert code == 2
    assert lines == [
        "usage.csv:4: value: 150 is outside the range of answer_share, 0 to 100 (a percentage)",
        "usage.csv:5: value: 5,001 is outside the range of licensed_users, 0 to 5,000 "
        "(declared under metrics)",
        "error: usage.csv: 2 problem(s); nothing was imported",
    ]
    assert valid == 0
    assert observations(engine) == 3


def test_training_and_acknowledgement_times_have_the_same_window(
    store_url: str, tmp_path: Path
) -> None:
    piloting(get_engine(store_url))
    (tmp_path / "lms.csv").write_text(
        "person,module,completed_at\nfran,full-course,2027-01-01\n", encoding="utf-8"
    )
    (tmp_path / "acks.csv").write_text(
        "department,champion,acknowledged_at\nfinance,fran,1999-01-01\n", encoding="utf-8"
    )

    lms = run(
        "metrics", "import", "lms.csv", "--kind", "training", "--as-of", AS_OF,
        cwd=tmp_path, database_url=store_url,
    )  # fmt: skip
    acks = run(
        "metrics", "import", "acks.csv", "--kind", "acks", "--as-of", AS_OF,
        cwd=tmp_path, database_url=store_url,
    )  # fmt: skip

    assert lms.returncode == acks.returncode == 2
    assert lms.stderr.startswith(
        "lms.csv:2: completed_at: 2026-12-31 23:00 UTC is more than a day after"
    )
    assert acks.stderr.startswith(
        "acks.csv:2: acknowledged_at: 1998-12-31 23:00 UTC is more than ten years before"
    )


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("9999-12-31T23:00-05:00", "UTC"),  # the year 10000 in UTC
        ("9999-12-31T23:00", "America/New_York"),
        ("0001-01-01", "Asia/Tokyo"),  # the year 0 in UTC
    ],
)
def test_a_moment_beyond_the_calendar_is_a_value_error_not_a_crash(text: str, zone: str) -> None:
    with pytest.raises(ValueError, match="is out of range for a date"):
        parse_moment(text, ZoneInfo(zone))
