"""A real SQLite store from the example plan, a real Signer and the real app, driven by
FastAPI's TestClient. HR and Sales are preparing (champions not acknowledged yet, their
attestations missing); customer service was rolled back to scaling, where the sponsor
and the lead approve it (an approval gate)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.phases import Event
from pilotscale.db import dispose_engines, get_engine
from pilotscale.demo import LEAD, monday
from pilotscale.engine import operator
from pilotscale.engine.start import rollout_program
from pilotscale.links import Link, Purpose, Signer, visit_key
from pilotscale.plan.loader import load_plan_text
from pilotscale.settings import Settings
from pilotscale.store.apply import apply_plan
from pilotscale.store.snapshot import load_view
from pilotscale.web.webapp import create_app

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "acme-ai-assistant.yaml"
KEY = "test-link-key-7f3a9c2e5b8d1046"
NASTY_NAME = '<b>Zoë "@channel" O\'Brien</b>'
NASTY_TITLE = "Human <script>alert(1)</script> Resources"
NOW = monday(0) + timedelta(days=3)
PROXY = "10.9.8.7"


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
        by=LEAD,
        reason="re-check the pilot before operating",
        now=monday(0) + timedelta(days=1),
    )


@dataclass
class Web:
    engine: Engine
    signer: Signer
    client: TestClient
    proxied: TestClient  # requests from the trusted single sign-on proxy
    db_path: Path

    def link(self, purpose: Purpose, person: str, department: str = "", gate: str = "") -> str:
        """The path of a fresh link for the department's current visit."""
        visit = ""
        if department:
            with Session(self.engine) as session:
                row = load_view(session=session).department(department)
            visit = visit_key(row.phase_entered_at)
        token = self.signer.sign(Link(purpose, person, department, gate, visit))
        return f"/me/{token}" if purpose is Purpose.mine else f"/a/{purpose.value}/{token}"

    def dump(self) -> str:
        """Every row of the store, as SQL text: equal before and after means nothing recorded."""
        raw = self.engine.raw_connection()
        try:
            return "\n".join(raw.driver_connection.iterdump())  # type: ignore[union-attr]
        finally:
            raw.close()


def make_app(engine: Engine, signer: Signer, clock: datetime = NOW):  # type: ignore[no-untyped-def]
    settings = Settings(trusted_proxies=[f"{PROXY}/32"], base_url="http://127.0.0.1:8400")
    return create_app(engine=engine, signer=signer, clock=lambda: clock, settings=settings)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    db_path = tmp_path / "store.db"
    engine = get_engine(f"sqlite:///{db_path}")
    build_store(engine)
    signer = Signer(KEY)
    app = make_app(engine, signer)
    with TestClient(app) as client, TestClient(app, client=(PROXY, 40000)) as proxied:
        yield Web(engine, signer, client, proxied, db_path)
    dispose_engines()
