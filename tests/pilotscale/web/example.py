"""The example plan with a champion named <b>Zoë "@channel" O'Brien</b> and HR titled with
<script>, applied and rolled out: HR and Sales are preparing (champions not acknowledged,
attestations missing); customer service was rolled back to scaling, where its sponsor and
the lead approve it. The web tests and the engine's readers of pages use it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.phases import Event
from pilotscale.demo import LEAD, monday
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.start import rollout_program
from pilotscale.plan.loader import load_plan_text
from pilotscale.store.apply import apply_plan

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "acme-ai-assistant.yaml"
KEY = "test-link-key-7f3a9c2e5b8d1046"
NASTY_NAME = '<b>Zoë "@channel" O\'Brien</b>'
NASTY_TITLE = "Human <script>alert(1)</script> Resources"
NOW = monday(0) + timedelta(days=3)


def plan_text() -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace("name: Ana Ruiz,", "name: '<b>Zoë \"@channel\" O''Brien</b>',")
    text = text.replace("title: Human Resources", f'title: "{NASTY_TITLE}"')
    assert NASTY_TITLE in text
    assert "O''Brien" in text
    return text


def build_store(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        apply_plan(
            session=session,
            loaded=load_plan_text(plan_text(), str(EXAMPLE)),
            now=monday(0),
            actor="maria.lopez",
        )
    rollout_program(engine=engine, now=monday(0))
    operator.operate(
        engine=engine,
        department="customer-service",
        event=Event.rollback,
        target="scaling",
        actor=cli_actor(LEAD),
        reason="re-check the pilot before operating",
        now=monday(0) + timedelta(days=1),
    )
