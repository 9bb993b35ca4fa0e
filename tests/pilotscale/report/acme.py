"""The ACME example with eight weeks of history, built through the engine (no Prefect):
the demo's story, with a readiness check every Monday and the metric sources pulled first."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.demo import LEAD, complete_all_training, feed_metrics, monday
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import apply_check, prepare_check
from pilotscale.engine.pull import pull_due_sources
from pilotscale.engine.start import rollout_program
from pilotscale.metrics.ingest import Catalog, validate
from pilotscale.metrics.reader import RecordFile
from pilotscale.plan.loader import load_plan, load_plan_text
from pilotscale.store.apply import apply_plan
from pilotscale.store.imports import ImportWriter
from pilotscale.store.snapshot import load_view

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "acme-ai-assistant.yaml"
USAGE = REPO / "examples" / "acme-usage.csv"
AS_OF = monday(7)


def check(engine: Engine, week: int) -> None:
    pulled = pull_due_sources(engine=engine, now=monday(week))
    apply_check(
        engine=engine,
        prepared=prepare_check(engine=engine, now=monday(week), metric_errors=pulled.errors),
    )


def attest(engine: Engine, department: str, gate: str, by: str, at: datetime) -> None:
    operator.attest(
        engine=engine, department=department, gate=gate, actor=cli_actor(by), evidence="doc", now=at
    )


def build(engine: Engine, plan_text: str | None = None) -> datetime:
    """Weeks 0-7 of the story; returns the moment the report is made."""
    loaded = load_plan_text(plan_text, str(EXAMPLE)) if plan_text else load_plan(EXAMPLE)
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded, now=monday(0), actor="maria.lopez")
    rollout_program(engine=engine, now=monday(0))
    for dept, champions in (
        ("hr", ["ana.ruiz", "carmen.diaz"]),
        ("sales", ["sofia.ortega", "diego.martin"]),
    ):
        for c in champions:
            operator.acknowledge(
                engine=engine,
                department=dept,
                actor=cli_actor(c),
                now=monday(0) + timedelta(days=2),
            )
    for dept, sponsor in (("hr", "jorge.navarro"), ("sales", "raul.vega")):
        at = monday(0) + timedelta(days=3)
        attest(engine, dept, "use-cases-developed", sponsor, at)
        attest(engine, dept, "sponsor-commitment", sponsor, at)
        attest(engine, dept, "budget-at-scale", LEAD, at)
    attest(engine, "hr", "governed-data", "knowledge.team", monday(0) + timedelta(days=4))
    check(engine, 1)
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
    attest(engine, "hr", "guardrails", "compliance", monday(1) + timedelta(days=5))
    check(engine, 2)
    # Sales gets a content owner (a plan change), its last champion and governed data.
    text = (plan_text or EXAMPLE.read_text(encoding="utf-8")).replace(
        "support: {technical: it.helpdesk, adoption: ai.coe, governance: compliance}",
        "support: {technical: it.helpdesk, adoption: ai.coe, content: knowledge.team,\n"
        "              governance: compliance}",
    )
    with Session(engine) as session, session.begin():
        apply_plan(
            session=session,
            loaded=load_plan_text(text, str(EXAMPLE)),
            now=monday(2) + timedelta(days=1),
            actor="maria.lopez",
        )
    at = monday(2) + timedelta(days=2)
    operator.acknowledge(engine=engine, department="sales", actor=cli_actor("irene.castro"), now=at)
    attest(engine, "sales", "governed-data", "knowledge.team", at)
    check(engine, 3)
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
    complete_all_training(engine=engine, department="hr", at=monday(4))
    attest(engine, "hr", "production-monitoring", "it.helpdesk", monday(4))
    for week in (4, 5, 6):
        check(engine, week)
    for approver in ("elena.garcia", "maria.lopez"):
        operator.approve(
            engine=engine,
            department="hr",
            gate="executive-go-ahead",
            actor=cli_actor(approver),
            comment="go",
            now=monday(6) + timedelta(days=1),
        )
    check(engine, 7)
    import_usage(engine)
    return AS_OF


def import_usage(engine: Engine) -> None:
    """examples/acme-usage.csv, the way `pilotscale metrics import` writes it."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
    source = RecordFile(USAGE, "csv")
    catalog = Catalog(view.plan, as_of=AS_OF)
    with Session(engine) as session, session.begin():
        writer = ImportWriter(
            session=session,
            program_id=view.program.id or 0,
            department_ids={d.name: d.id or 0 for d in view.departments},
            source=USAGE.name,
        )
        for row in validate("observations", source.records(), catalog, header_checked=True):
            assert not isinstance(row, list), row
            writer.add(row)
        writer.finish()
