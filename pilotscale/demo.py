"""`make demo`: ACME's rollout story, end to end, on SQLite and Prefect's local ephemeral API.

ACME's customer-service pilot is done. HR and Sales start as the first wave of
mini-pilots; eight simulated Monday readiness checks follow, with adoption, rating,
time-saved and training data fed between them. HR goes preparing → piloting →
scaling → operating, with an approval given (and one refused) on the way; Sales is
held because nobody owns content support, until a plan change names an owner.
No channel is configured, so the demo switches local delivery on
(PILOTSCALE_LOCAL_DELIVERY=true): every notification lands in the local outbox folder
as an .eml or .md file instead of failing as an unset channel does in production.

    python -m pilotscale.demo examples/acme-ai-assistant.yaml
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import secrets
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.rule import Rule
from rich.text import Text
from sqlalchemy import func
from sqlmodel import Session, col, select

from pilotscale.cli.main import ephemeral_api_patience
from pilotscale.cli.text import guard_log_lines, terminal, text
from pilotscale.core.messages import GROUPED
from pilotscale.core.permissions import NotAllowed
from pilotscale.db import get_engine
from pilotscale.demo_links import confirm, email_text, first_action, link_in
from pilotscale.engine import operator
from pilotscale.models import (
    Department,
    MetricObservation,
    Notification,
    Person,
    TrainingAssignment,
    Transition,
)
from pilotscale.plan.loader import Essentials, load_plan, load_plan_text
from pilotscale.settings import get_settings
from pilotscale.store.apply import apply_plan
from pilotscale.store.insert import insert_ignore
from pilotscale.web.serving import start_in_thread

console = terminal(piped_width=110)
LEAD = "maria.lopez@acme.example"
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)  # a Monday, 09:00 in Madrid


def say(line: str, *, lead: str = "") -> None:
    """A line of the story: `lead` is the demo's own markup, `line` is text (plan text in it)."""
    console.print(Text.assemble(Text.from_markup(f"[bold cyan]▸[/] {lead}"), text(line)))


def monday(week: int) -> datetime:
    return START + timedelta(weeks=week)


def _department_ids(session: Session) -> dict[str, int]:
    return {n: i for n, i in session.exec(select(Department.name, Department.id)) if i}


def feed_metrics(
    *,
    engine,
    department: str,
    start: datetime,
    days: int,
    active: float,
    rating: float,
    hours_per_week: float,
    seed: int,
) -> int:
    """Daily weekly-active rate, a handful of answer ratings a day, weekly hours saved."""
    rng = random.Random(seed)  # noqa: S311 - simulated data, not security
    with Session(engine) as session, session.begin():
        dept_id = _department_ids(session)[department]
        program_id = session.exec(
            select(Department.program_id).where(col(Department.id) == dept_id)
        ).one()
        rows = []
        for day in range(days):
            at = start + timedelta(days=day, hours=10)
            rows.append(("weekly_active_rate", round(active + rng.uniform(-0.04, 0.04), 3), at, ""))
            for n in range(5):
                rows.append(
                    (
                        "answer_rating",
                        float(rng.choice([4, 4, 5, 5, 3 if rating < 4 else 4])),
                        at + timedelta(minutes=n),
                        f"u{n}",
                    )
                )
            if day % 7 == 6:
                rows.append(
                    ("time_saved_hours", round(hours_per_week * rng.uniform(0.9, 1.1), 1), at, "")
                )
        return insert_ignore(
            session=session,
            model=MetricObservation,
            rows=[
                {
                    "program_id": program_id,
                    "department_id": dept_id,
                    "metric": m,
                    "value": v,
                    "observed_at": at,
                    "segment": "",
                    "person_key": who,
                    "source": "demo",
                }
                for m, v, at, who in rows
            ],
        )


def complete_all_training(*, engine, department: str, at: datetime, share: float = 1.0) -> int:
    with Session(engine) as session:
        rows = session.exec(
            select(Person.key, TrainingAssignment.module_id)
            .join(Person, col(Person.id) == col(TrainingAssignment.person_id))
            .join(Department, col(Department.id) == col(TrainingAssignment.department_id))
            .where(
                col(Department.name) == department, col(TrainingAssignment.completed_at).is_(None)
            )
            .order_by(col(Person.key))
        ).all()
    done = rows[: max(1, round(len(rows) * share))] if rows else []
    for person, module in done:
        operator.complete_training(engine=engine, person=person, module=module, now=at)
    return len(done)


async def check(week: int) -> dict:
    from pilotscale.flows.readiness_check import readiness_check

    result = await readiness_check(as_of=monday(week))
    moves = ", ".join(f"{d}: {a}" for d, a in result["decisions"].items() if a != "skip")
    say(moves, lead=f"[bold]readiness check {result['check_key']}[/] → ")
    escalations(monday(week))
    for department, action in result["decisions"].items():
        if action == "rollback":
            with Session(get_engine()) as session:
                moved = session.exec(
                    select(Transition)
                    .join(Department, col(Department.id) == col(Transition.department_id))
                    .where(Department.name == department)
                    .order_by(col(Transition.id).desc())
                ).first()
            reason = moved.reason if moved else "rolled back"
            say(f"{department}: {reason}", lead="[bold red]regressed[/] ")
            say("its gate owners, the sponsor and the lead were told (monitoring_regressed)")
    return result


def escalations(at: datetime) -> None:
    """Say which gates this check escalated as stuck (pending for too many checks)."""
    told: dict[tuple[str, str, int], list[str]] = {}
    with Session(get_engine()) as session:
        for recipient, event, context in session.exec(
            select(Notification.recipient_key, Notification.event, Notification.context_json).where(
                col(Notification.event).in_(["gate_stuck", GROUPED]),
                Notification.created_at == at,
            )
        ):
            facts = json.loads(context)
            # Told on its own, or as an item of the person's list of open items.
            found = facts["items"] if event == GROUPED else [facts]
            for item in found:
                if event == GROUPED and item.get("event") != "gate_stuck":
                    continue
                key = (item["department"]["name"], item["gate"]["title"], item.get("checks", 0))
                told.setdefault(key, []).append(recipient)
    for (department, gate, checks), people in sorted(told.items()):
        pending = f" pending at {checks} checks" if checks else " stuck in pending"
        say(
            f"{department}: '{gate}'{pending}, escalated to {', '.join(sorted(set(people)))}",
            lead="[bold]stuck[/] ",
        )


def explain(department: str, week: int) -> None:
    from typer.testing import CliRunner

    from pilotscale.cli.main import app

    out = CliRunner().invoke(app, ["explain", department, "--as-of", monday(week).isoformat()])
    sys.stdout.write(out.output)


@dataclass
class Clock:
    """The story's simulated now, which the web app it serves takes for its own."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now


def decide_from_the_email(clock: Clock) -> None:
    """Elena, the sponsor, has no CLI: she opens the link in her approval-request email,
    rejects with a reason, and after the lead fixes it approves from her own page."""
    settings = get_settings()
    base = settings.base_url or ""
    text_part = email_text(
        settings.resolved_outbox_dir(),
        to="elena.garcia@acme.example",
        subject_starts="Your approval is needed",
        mentions=f"{base}/d/hr",
    )
    decide, mine = link_in(text_part, base, "a/decide"), link_in(text_part, base, "me")
    say(f"Elena opens the link in her email: {decide.split('/a/')[0]}/a/decide/…")
    with httpx.Client(base_url=base, timeout=30) as browser:
        clock.now = monday(6) + timedelta(hours=3)
        said = confirm(
            browser, decide, choice="reject", comment="No evening-shift support rota yet."
        )
        say(said, lead="[yellow]rejected from the link[/]: ")
        say("the gate now holds with her reason; María, the lead, is told and adds the rota")
        clock.now = monday(6) + timedelta(days=1)
        again = first_action(browser, mine, department="hr")  # her page: a fresh link
        said = confirm(browser, again, choice="approve", comment="Rota in place; go.")
        say(said, lead="[green]approved from her page[/]: ")


async def story(plan_path: Path, *, port: int, web: bool) -> None:
    engine = get_engine()
    clock = Clock()
    console.print(Rule("ACME scales its AI assistant — a mini-pilot per department"))
    # As `apply --allow-incomplete` does: Sales has no content owner yet, on purpose.
    loaded = load_plan(plan_path, check=Essentials.warn)
    say(
        f"plan {plan_path} is valid: {len(loaded.plan.departments)} departments, "
        f"{len(loaded.plan.gates)} gates"
    )
    for warning in loaded.warnings:
        say(f"{warning.path}: {warning.message}", lead="[yellow]warning[/]: ")
    with Session(engine) as session, session.begin():
        report = apply_plan(session=session, loaded=loaded, now=monday(0), actor="maria.lopez")
    say(
        f"applied: {len(report.changes)} changes "
        "(customer service enters 'operating': the pilot is done)"
    )

    roster = plan_path.parent / "acme-roster.csv"
    if roster.is_file():
        # The plan lists the key people; everyone else comes from the HR system's export.
        from typer.testing import CliRunner

        from pilotscale.cli.main import app

        imported = CliRunner().invoke(
            app, ["people", "import", str(roster), "--as-of", monday(0).isoformat()]
        )
        if imported.exit_code != 0:
            raise SystemExit(f"the roster import failed: {imported.output.strip()}")
        say(imported.output.strip().splitlines()[-1])
        say("training, champion and adoption gates now count each department's roster")

    from pilotscale.flows.rollout_program import rollout_program_flow

    guard_log_lines()  # Prefect's console handler exists now: plan text in its lines too

    console.print(Rule("Week 0 — the first wave starts"))
    result = await rollout_program_flow(as_of=monday(0))
    say(f"rollout started {', '.join(result['started'])}; waiting: {', '.join(result['waiting'])}")
    for dept, champions in (
        ("hr", ["ana.ruiz", "carmen.diaz"]),
        ("sales", ["sofia.ortega", "diego.martin"]),
    ):
        for c in champions:
            operator.acknowledge(
                engine=engine,
                department=dept,
                actor=operator.cli_actor(c),
                now=monday(0) + timedelta(days=2),
            )
    say("champions acknowledged their welcome kits (Irene in Sales has not yet)")
    for dept, sponsor in (("hr", "jorge.navarro"), ("sales", "raul.vega")):
        operator.attest(
            engine=engine,
            department=dept,
            gate="use-cases-developed",
            actor=operator.cli_actor(sponsor),
            evidence="use-case workshop notes",
            now=monday(0) + timedelta(days=3),
        )
        operator.attest(
            engine=engine,
            department=dept,
            gate="sponsor-commitment",
            actor=operator.cli_actor(sponsor),
            evidence="",
            now=monday(0) + timedelta(days=3),
        )
        operator.attest(
            engine=engine,
            department=dept,
            gate="budget-at-scale",
            actor=operator.cli_actor(LEAD),
            evidence="budget-projection-v3.xlsx",
            now=monday(0) + timedelta(days=3),
        )
    operator.attest(
        engine=engine,
        department="hr",
        gate="governed-data",
        actor=operator.cli_actor("knowledge.team"),
        evidence="HR policy library owned and reviewed",
        now=monday(0) + timedelta(days=4),
    )
    say("sponsors, the lead and the knowledge team attested their checklist items")

    console.print(Rule("Week 1"))
    await check(1)
    explain("sales", 1)

    console.print(Rule("Weeks 2–3 — HR pilots with its power users"))
    feed_metrics(
        engine=engine,
        department="hr",
        start=monday(1),
        days=14,
        active=0.62,
        rating=4.3,
        hours_per_week=60,
        seed=1,
    )
    complete_all_training(engine=engine, department="hr", at=monday(1) + timedelta(days=6))
    operator.attest(
        engine=engine,
        department="hr",
        gate="guardrails",
        actor=operator.cli_actor("compliance"),
        evidence="HR acceptable-use policy v2",
        now=monday(1) + timedelta(days=5),
    )
    await check(2)
    say("Sales: the lead names a content owner and re-applies the plan")
    text = plan_path.read_text(encoding="utf-8").replace(
        "support: {technical: it.helpdesk, adoption: ai.coe, governance: compliance}",
        "support: {technical: it.helpdesk, adoption: ai.coe, content: knowledge.team,\n"
        "              governance: compliance}",
    )
    with Session(engine) as session, session.begin():
        report = apply_plan(
            session=session,
            loaded=load_plan_text(text, str(plan_path)),
            now=monday(2) + timedelta(days=1),
            actor="maria.lopez",
        )
    for change in report.changes:
        say(f"  plan change: {change}")
    operator.acknowledge(
        engine=engine,
        department="sales",
        actor=operator.cli_actor("irene.castro"),
        now=monday(2) + timedelta(days=2),
    )
    operator.attest(
        engine=engine,
        department="sales",
        gate="governed-data",
        actor=operator.cli_actor("knowledge.team"),
        evidence="catalogue sources reviewed",
        now=monday(2) + timedelta(days=2),
    )
    await check(3)

    console.print(Rule("Weeks 4–6 — HR scales to everyone"))
    # Four weeks of data at once: each check sees only what was observed before it.
    feed_metrics(
        engine=engine,
        department="hr",
        start=monday(3),
        days=28,
        active=0.68,
        rating=4.4,
        hours_per_week=90,
        seed=2,
    )
    feed_metrics(
        engine=engine,
        department="sales",
        start=monday(3),
        days=28,
        active=0.41,
        rating=3.8,
        hours_per_week=30,
        seed=3,
    )
    # Customer service, operating since the pilot, loses its users after a reorganisation.
    feed_metrics(
        engine=engine,
        department="customer-service",
        start=monday(1),
        days=42,
        active=0.38,
        rating=3.9,
        hours_per_week=40,
        seed=4,
    )
    say("customer service: usage drops to 38% a week after a reorganisation")
    complete_all_training(engine=engine, department="hr", at=monday(4), share=1.0)
    complete_all_training(engine=engine, department="sales", at=monday(4), share=0.5)
    operator.attest(
        engine=engine,
        department="hr",
        gate="production-monitoring",
        actor=operator.cli_actor("it.helpdesk"),
        evidence="Grafana board 'assistant-hr'",
        now=monday(4),
    )
    await check(4)
    # Compliance has not reviewed Sales' guardrails for weeks (the gate is stuck): the lead
    # waives it until January, on the record, and its owner and Sales' sponsor are told.
    from pilotscale.engine.lead_actions import waive

    waived = waive(
        engine=engine,
        department="sales",
        gate="guardrails",
        actor=operator.cli_actor(LEAD),
        reason="Compliance reviews it in January; Sales uses the HR rules meanwhile",
        until=datetime(2027, 1, 15, tzinfo=UTC),
        now=monday(4) + timedelta(days=1),
    )
    say(waived.message, lead="[bold]waived[/] ")
    await check(5)
    await check(6)
    explain("hr", 6)

    console.print(Rule("The go-live approval, from the email"))
    # People without the CLI act in the web app, from the links in their messages.
    server = start_in_thread(engine=engine, port=port, clock=clock)
    try:
        operator.approve(
            engine=engine,
            department="hr",
            gate="executive-go-ahead",
            actor=operator.cli_actor("ana.ruiz@acme.example"),
            comment="looks good",
            now=monday(6),
        )
    except NotAllowed as exc:
        say(str(exc), lead="[red]refused[/]: ")
    decide_from_the_email(clock)
    done = operator.approve(
        engine=engine,
        department="hr",
        gate="executive-go-ahead",
        actor=operator.cli_actor(LEAD),
        comment="Support model holds at full scale.",
        now=monday(6) + timedelta(days=2),
    )
    say(done.message)
    await check(7)

    console.print(Rule("Where the program stands"))
    from typer.testing import CliRunner

    from pilotscale.cli.main import app

    runner = CliRunner()
    sys.stdout.write(runner.invoke(app, ["history", "hr"]).output)
    outbox = get_settings().resolved_outbox_dir()
    with Session(engine) as session:
        sent = session.exec(
            select(Notification.event, func.count()).group_by(col(Notification.event))
        ).all()
    files = len(list(outbox.glob("*"))) if outbox.exists() else 0
    say(
        f"{files} notifications written to {outbox} (no channel configured): "
        + ", ".join(f"{n}× {e}" for e, n in sorted(sent))
    )
    result = await rollout_program_flow(as_of=monday(7))
    for name, reasons in result["waiting"].items():
        say(f"{name} waits: {'; '.join(reasons)}")
    sys.stdout.write(runner.invoke(app, ["status", "--as-of", monday(7).isoformat()]).output)
    if not web:
        server.stop()
        return
    clock.now = monday(7)
    say(
        f"the program board: {get_settings().base_url}/ (and each department at /d/NAME); "
        "Ctrl-C stops it",
        lead="[bold]web[/] ",
    )
    try:
        while server.thread.is_alive():
            await asyncio.sleep(1)
    finally:
        server.stop()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pilotscale.demo",
        description="ACME's rollout story, end to end, in a throwaway store.",
    )
    parser.add_argument(
        "plan", nargs="?", type=Path, default=Path("examples/acme-ai-assistant.yaml")
    )
    parser.add_argument(
        "--web",
        action="store_true",
        help="keep serving the web app at the end, and print the program board's address",
    )
    parser.add_argument("--port", type=int, default=0, help="web app port (default: a free one)")
    args = parser.parse_args()
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = int(probe.getsockname()[1])
    # Links in messages point at the web app this demo serves, signed with a key that
    # lives only in this process (production sets its own, in the environment).
    os.environ.setdefault("PILOTSCALE_BASE_URL", f"http://127.0.0.1:{args.port}")
    os.environ.setdefault("PILOTSCALE_LINK_SECRET", secrets.token_urlsafe(32))
    get_settings.cache_clear()
    return args


def main() -> None:
    # The one place that asks for the folder: production leaves it off, so an unset
    # channel fails loudly instead of being "sent" to a folder nobody reads.
    os.environ.setdefault("PILOTSCALE_LOCAL_DELIVERY", "true")
    ephemeral_api_patience()
    get_settings.cache_clear()
    # Each local delivery logs a line at INFO; the story prints its own summary instead.
    logging.getLogger("apprise").setLevel(logging.WARNING)
    args = _arguments()
    started = time.monotonic()
    try:
        asyncio.run(story(args.plan, port=args.port, web=args.web))
    except KeyboardInterrupt:
        say("stopped")
    say(f"demo finished in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
