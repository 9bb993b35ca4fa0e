"""`pilotscale people import|list`, run as a user runs them: a real process, a real store."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from sqlalchemy import Engine

from tests.cli import run_cli
from tests.pilotscale.store.helpers import COMPLETE_PLAN as PLAN
from tests.pilotscale.store.helpers import row_counts

HEADER = "id,name,email,department,segment,roles,manager,chat,locale\n"
GOOD = HEADER + (
    "fran.champion,Fran,fran@example.com,finance,power,,,,\n"
    "e1001,Ana One,ana1@example.com,finance,casual,,,@ana1,es-ES\n"
    "e1002,Bo Two,bo2@example.com,legal,none,,,,\n"
)


def run(*args: str, cwd: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
        "PILOTSCALE_DATABASE_URL": url,
        "PILOTSCALE_DATA_DIR": str(cwd / "data"),
    }
    env.pop("PILOTSCALE_DEBUG", None)
    return run_cli(*args, env=env, cwd=cwd)


def applied(tmp_path: Path, url: str) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    assert run("apply", "plan.yaml", cwd=tmp_path, url=url).returncode == 0


def test_every_problem_is_located_and_nothing_is_written(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    applied(tmp_path, store_url)
    (tmp_path / "bad.csv").write_text(
        HEADER + "e1001,Ana,ana@example.com,finanse,casual,,,,\n"
        "e1002,Bo,not-an-email,legal,casul,,,,\n"
        "e1001,,ana@example.com,legal,power,chief,,,\n"
        "E 9,Cy,cy@example.com,legal,none,,,,x\n",
        encoding="utf-8",
    )
    before = row_counts(engine)

    result = run("people", "import", "bad.csv", cwd=tmp_path, url=store_url)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "bad.csv:2: department: unknown department 'finanse'; did you mean 'finance'? "
        "(the plan's: finance, legal, support); leave people of other departments out of "
        "the file, or add the department to the plan",
        "bad.csv:3: email: 'not-an-email' is not an email address",
        "bad.csv:3: segment: 'casul' is not a segment: use power, casual or none (not a trainee)",
        "bad.csv:4: name: missing value",
        "bad.csv:4: roles: unknown role 'chief' (roles: champion, lead, sponsor, "
        "support_owner, approver, executive)",
        "bad.csv:4: id: 'e1001' is used twice (first at row 2)",
        "bad.csv:4: email: 'ana@example.com' is used twice (first at row 2)",
        "bad.csv:5: id: 'e 9' is not an id: letters, digits, '.', '_' or '-', starting with "
        "a letter or digit, at most 63 characters",
        "bad.csv:5: locale: 'x' is not a locale (e.g. es, en-GB, pt_BR)",
        "error: bad.csv: 9 problem(s); nothing was imported",
    ]
    assert row_counts(engine) == before


def test_a_bad_header_is_one_problem(store_url: str, tmp_path: Path) -> None:
    applied(tmp_path, store_url)
    (tmp_path / "bad.csv").write_text(
        "id,name,mail,department,segment\ne1,A,a@example.com,legal,none\n", encoding="utf-8"
    )

    result = run("people", "import", "bad.csv", cwd=tmp_path, url=store_url)

    assert result.returncode == 2
    assert "bad.csv:1: mail: unknown column; did you mean 'email'?" in result.stderr
    assert "bad.csv:1: email: required column is missing" in result.stderr


def test_importing_twice_says_nothing_changed(store_url: str, tmp_path: Path) -> None:
    applied(tmp_path, store_url)
    (tmp_path / "roster.csv").write_text(GOOD, encoding="utf-8")

    first = run("people", "import", "roster.csv", cwd=tmp_path, url=store_url)
    again = run("people", "import", "roster.csv", cwd=tmp_path, url=store_url)

    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        "imported roster.csv: 3 people — 2 added, 1 updated, 0 deactivated (not in this "
        "roster), 0 unchanged"
    )
    assert "warning: plan: departments[finance].headcount 120 but the roster has 2" in (
        first.stderr
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == (
        "no changes: roster.csv (3 people) matches the roster already imported"
    )


def test_a_json_export_and_the_listing(store_url: str, tmp_path: Path) -> None:
    applied(tmp_path, store_url)
    records = [
        {"employee_id": "e1001", "name": "Ana", "email": "ana@example.com",
         "department": "legal", "segment": "casual", "roles": "champion;approver"},
        {"id": "e1002", "name": "Bo", "email": "bo@example.com", "department": "legal",
         "segment": "power"},
    ]  # fmt: skip
    (tmp_path / "roster.json").write_text(json.dumps(records), encoding="utf-8")

    imported = run("people", "import", "roster.json", cwd=tmp_path, url=store_url)
    listed = run("people", "list", "legal", "--json", cwd=tmp_path, url=store_url)

    assert imported.returncode == 0, imported.stderr
    data = json.loads(listed.stdout)
    assert data["roster_imported"] is True
    # lola.champion from the plan (no segment, a champion: casual), and the two imported.
    assert data["departments"] == [
        {
            "department": "legal",
            "active": 3,
            "plan_headcount": 12,
            "segments": {"power": 1, "casual": 2, "none": 0},
        }
    ]
    assert [(p["id"], p["source"]) for p in data["people"]] == [
        ("e1001", "roster"),
        ("e1002", "roster"),
        ("lola.champion", "plan"),
    ]


def test_preference_columns_are_checked_and_located(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    applied(tmp_path, store_url)
    header = "id,name,email,department,segment,notify,timezone,quiet_hours,digest_day\n"
    (tmp_path / "bad.csv").write_text(
        header + "e1,Ana,ana@example.com,finance,casual,sms,Europe/Berlin,20:00-08:00,fri\n"
        "e2,Bo,bo@example.com,legal,none,chat,Mars/Olympus,8pm-8am,someday\n"
        "e3,Cy,cy@example.com,legal,none,both,UTC,09:00-09:00,\n",
        encoding="utf-8",
    )
    before = row_counts(engine)

    result = run("people", "import", "bad.csv", cwd=tmp_path, url=store_url)

    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "bad.csv:2: notify: 'sms' is not one of email, chat, both, digest",
        "bad.csv:3: timezone: 'Mars/Olympus': unknown time zone; use an IANA name such as "
        "'Europe/Madrid'",
        "bad.csv:3: quiet_hours: '8pm-8am' is not a time window: quiet hours are a local time "
        "window such as '20:00-08:00' (it may cross midnight)",
        "bad.csv:3: digest_day: 'someday' is not a day: use mon, tue, wed, thu, fri, sat, sun",
        "bad.csv:4: quiet_hours: '09:00-09:00' starts and ends at the same time: quiet hours "
        "are a local time window such as '20:00-08:00' (it may cross midnight)",
        "error: bad.csv: 5 problem(s); nothing was imported",
    ]
    assert row_counts(engine) == before

    (tmp_path / "good.csv").write_text(
        header + "e1,Ana,ana@example.com,finance,casual,chat,Europe/Berlin,20:00-8:00,Friday\n",
        encoding="utf-8",
    )
    good = run("people", "import", "good.csv", cwd=tmp_path, url=store_url)
    assert good.returncode == 0, good.stderr
    assert "1 added" in good.stdout


def test_the_listing_says_how_messages_reach_each_person(store_url: str, tmp_path: Path) -> None:
    """The engine's answer, person by person: a roster person's own preferences, else the
    program's; a plan person's chat from the plan, and the roster's notify, time zone,
    quiet hours and digest day where the plan names none."""
    applied(tmp_path, store_url)
    header = "id,name,email,department,segment,notify,chat,timezone,quiet_hours,digest_day\n"
    (tmp_path / "roster.csv").write_text(
        header + "e1001,Ana,ana@example.com,legal,casual,chat,@ana,Europe/Berlin,20:00-08:00,fri\n"
        "e1002,Bo,bo@example.com,legal,power,,,,,\n"
        "lola.champion,Lola,lola@example.com,legal,casual,chat,@lola,Asia/Tokyo,22:00-07:00,mon\n",
        encoding="utf-8",
    )
    imported = run("people", "import", "roster.csv", cwd=tmp_path, url=store_url)
    assert imported.returncode == 0, imported.stderr

    listed = run("people", "list", "legal", "--json", cwd=tmp_path, url=store_url)
    shown = run("people", "list", "legal", cwd=tmp_path, url=store_url)

    assert listed.returncode == 0, listed.stderr
    keys = ("notify", "chat", "timezone", "quiet_hours", "digest_day")
    reached = {p["id"]: tuple(p[k] for k in keys) for p in json.loads(listed.stdout)["people"]}
    assert reached == {
        "e1001": ("chat", "@ana", "Europe/Berlin", "20:00-08:00", "fri"),
        "e1002": ("email", None, "Europe/Madrid", None, None),  # the program's zone
        "lola.champion": ("chat", None, "Asia/Tokyo", "22:00-07:00", "mon"),
    }
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert (
        "  e1001  Ana <ana@example.com>  casual  (roster); by chat (@ana), Europe/Berlin, "
        "quiet 20:00-08:00, digest on fri" in lines
    )
    assert "  e1002  Bo <bo@example.com>  power  (roster); by email, Europe/Madrid" in lines
    # The plan gives lola no chat address (the roster's is not hers): chat falls back.
    assert any(
        line.startswith("  lola.champion  ")
        and line.endswith(
            "by chat (no chat address: by email), Asia/Tokyo, quiet 22:00-07:00, digest on mon"
        )
        for line in lines
    ), lines
