"""A 5,000-person roster, end to end, as a program lead runs it: apply the plan, import the
HR export, start HR, import three LMS completions, run the check. HR has 180 people, of
whom the plan lists 3 (its sponsor, a champion and one casual user): the casual-training
gate must read "3 of 150 casual users trained", not "3 of 3".

Then a second export without one of the trained people: they leave the denominator (2 of
149), their completion stays in the history.
"""

from __future__ import annotations

import csv
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.start import start_department
from pilotscale.models import GateResultRecord, Notification, Person, TrainingAssignment
from tests.cli import run_cli

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

PLAN = """\
version: 1
program:
  name: acme
  title: Acme assistant
  sponsor: eva.exec
  lead: leo.lead
  timezone: UTC
  budget: {pilot_budget: 10000, approved_scale_budget: 90000, cost_per_user_month: 5}
  schedules: {readiness_check: "0 9 * * 1", weekly_digest: "0 8 * * 1"}
phases:
  - name: planned
  - name: piloting
    entry_actions: [onboard_champions, deliver_training]
    exit_gates: [casual-trained]
  - name: operating
gates:
  - name: casual-trained
    kind: training
    title: Casual users completed the quick-start guide
    owner: leo.lead
    segment: casual
    min_completion: 0.7
rollout:
  max_active: 3
  default_reaches: operating
departments:
  - name: hr
    title: Human Resources
    headcount: 180
    wave: 1
    sponsor: hr.sponsor
    champions: [hr.champion]
    training:
      power: [{id: hr-course, title: Full course, due_after: 2w}]
      casual: [{id: quick-start, title: Quick-start guide, due_after: 1w}]
  - name: sales
    title: Sales
    headcount: 2000
    wave: 1
    sponsor: eva.exec
  - name: operations
    title: Operations
    headcount: 2820
    wave: 1
    sponsor: eva.exec
people:
  - {id: eva.exec, name: Eva Exec, email: eva@acme.example, roles: [sponsor, executive]}
  - {id: leo.lead, name: Leo Lead, email: leo@acme.example, roles: [lead]}
  # HR's three listed people: the sponsor (no segment: not a trainee), a champion and
  # one casual user whose segment comes from the roster.
  - {id: hr.sponsor, name: Hana Sponsor, email: hana@acme.example, department: hr}
  - {id: hr.champion, name: Carla Champion, email: carla@acme.example, department: hr,
     segment: power, roles: [champion]}
  - {id: hr.casual, name: Cris Casual, email: cris@acme.example}
"""


def roster_rows(*, leave_out: str | None = None) -> list[dict[str, str]]:
    """5,000 people: HR's 180 (1 none, 29 power, 150 casual), sales 2,000, operations 2,820."""
    rows = [
        # The plan's people, found by id (sponsor, champion) and by email (the casual user,
        # whose HR id is not the plan's).
        _row("hr.sponsor", "hana@acme.example", "hr", "none"),
        _row("hr.champion", "carla@acme.example", "hr", "power"),
        _row("e00003", "cris@acme.example", "hr", "casual"),
    ]
    rows += [_row(f"h{n:05d}", None, "hr", "power") for n in range(28)]
    rows += [_row(f"h{n:05d}", None, "hr", "casual") for n in range(28, 28 + 149)]
    rows += [_row(f"s{n:05d}", None, "sales", "casual") for n in range(2000)]
    rows += [_row(f"o{n:05d}", None, "operations", "casual") for n in range(2820)]
    assert len(rows) == 5000
    return [r for r in rows if r["id"] != leave_out]


def _row(ident: str, email: str | None, department: str, segment: str) -> dict[str, str]:
    return {
        "id": ident,
        "name": f"Person {ident}",
        "email": email or f"{ident}@acme.example",
        "department": department,
        "segment": segment,
        "roles": "",
        "manager": "",
        "chat": "",
        "locale": "es-ES",
    }


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def cli(*args: str, tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
        "PILOTSCALE_DATABASE_URL": url,
        "PILOTSCALE_DATA_DIR": str(tmp_path / "data"),
    }
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result


def casual_gate(engine: Engine) -> GateResultRecord:
    with Session(engine) as session:
        return session.exec(
            select(GateResultRecord)
            .where(col(GateResultRecord.gate) == "casual-trained")
            .order_by(col(GateResultRecord.evaluated_at).desc())
        ).first()  # type: ignore[return-value]


def test_a_5000_person_roster_holds_hr_at_3_of_150(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN, encoding="utf-8")
    roster = write_csv(tmp_path / "roster.csv", roster_rows())
    # Sales and Operations only fill the roster: no champions, use cases or support owners
    # (essentials), and the plan must list no more people than HR's three.
    cli("apply", "plan.yaml", "--allow-incomplete", tmp_path=tmp_path, url=store_url)

    imported = cli("people", "import", str(roster), tmp_path=tmp_path, url=store_url)
    again = cli("people", "import", str(roster), tmp_path=tmp_path, url=store_url)

    assert "5,000 people" in imported.stdout
    assert "4,997 added" in imported.stdout
    assert "headcount" not in imported.stderr  # 180, 2,000 and 2,820 match the roster
    assert again.stdout.startswith("no changes:"), again.stdout
    listed = cli("people", "list", "hr", tmp_path=tmp_path, url=store_url)
    assert "hr: 180 active (29 power, 150 casual, 1 none); plan headcount 180" in listed.stdout

    start_department(engine=engine, department="hr", now=T0, actor="leo.lead")
    with Session(engine) as session:
        assigned = session.exec(
            select(TrainingAssignment.segment, func.count()).group_by(
                col(TrainingAssignment.segment)
            )
        ).all()
    assert dict(assigned) == {"power": 29, "casual": 150}  # the sponsor is not a trainee

    # The LMS export names people by id or by email.
    lms = tmp_path / "lms.csv"
    lms.write_text(
        "person,module,completed_at\n"
        "cris@acme.example,quick-start,2026-11-03T10:00\n"
        "h00030,quick-start,2026-11-03T11:00\n"
        "h00031@acme.example,quick-start,2026-11-04T09:00\n",
        encoding="utf-8",
    )
    as_of = (T0 + timedelta(days=3)).isoformat()
    done = cli(
        "metrics", "import", str(lms), "--kind", "training", "--as-of", as_of,
        tmp_path=tmp_path, url=store_url,
    )  # fmt: skip
    assert "3 new completions" in done.stdout, done.stdout

    run_readiness_check(engine=engine, now=T0 + timedelta(days=3))
    gate = casual_gate(engine)
    assert (gate.outcome, gate.observed_text) == ("fail", "3 of 150 (2%)")
    assert "only 3 of 150 casual users trained (2%), needs 70%" in gate.reason

    # h00030, who finished the guide, leaves the company: the next export does not list
    # them, and lists a newcomer to HR.
    later = [*roster_rows(leave_out="h00030"), _row("h09999", None, "hr", "casual")]
    second = write_csv(tmp_path / "roster2.csv", later)
    changed = cli("people", "import", str(second), tmp_path=tmp_path, url=store_url)
    assert "1 added" in changed.stdout, changed.stdout
    assert "1 deactivated" in changed.stdout, changed.stdout

    report = run_readiness_check(engine=engine, now=T0 + timedelta(days=4))
    gate = casual_gate(engine)
    assert gate.observed_text == "2 of 150 (1%)"  # one left, one joined (not trained yet)
    with Session(engine) as session:
        newcomer = session.exec(
            select(TrainingAssignment.module_id).join(Person).where(col(Person.key) == "h09999")
        ).all()
        welcomed = session.exec(
            select(func.count())
            .select_from(Notification)
            .where(
                col(Notification.recipient_key) == "h09999",
                col(Notification.event) == "training_assigned",
            )
        ).one()
    assert newcomer == ["quick-start"]  # assigned at the first check after the import
    assert welcomed == 1
    assert report.enqueued >= 1

    # A week on, the casual users who did not finish are reminded; h00030 is not.
    run_readiness_check(engine=engine, now=T0 + timedelta(days=8))
    with Session(engine) as session:
        reminded = set(
            session.exec(
                select(Notification.recipient_key).where(
                    col(Notification.event) == "training_reminder"
                )
            ).all()
        )
    assert len(reminded) == 147  # 150 casual, 3 finished (one of whom left), the newcomer
    assert "h00030" not in reminded
    assert "hr.casual" not in reminded  # Cris finished
    with Session(engine) as session:
        gone = session.exec(select(Person).where(col(Person.key) == "h00030")).one()
        kept = session.exec(
            select(TrainingAssignment).where(col(TrainingAssignment.person_id) == gone.id)
        ).one()
        cris = session.exec(select(Person).where(col(Person.email) == "cris@acme.example")).one()
    assert gone.removed_at is not None  # deactivated, not deleted
    assert not gone.in_roster
    assert kept.completed_at is not None  # the completion stays in the history
    # The plan's casual user, matched by email: one person, the plan's id, the roster's
    # department and segment.
    assert (cris.key, cris.source, cris.segment, cris.removed_at) == (
        "hr.casual",
        "plan",
        "casual",
        None,
    )
