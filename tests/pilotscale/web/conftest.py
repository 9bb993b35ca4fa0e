"""A real SQLite store from the example plan, a real Signer and the real app, driven by
FastAPI's TestClient. HR and Sales are preparing (champions not acknowledged yet, their
attestations missing); customer service was rolled back to scaling, where the sponsor
and the lead approve it (an approval gate)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.db import dispose_engines, get_engine
from pilotscale.links import Link, Purpose, Signer, visit_key
from pilotscale.settings import Settings
from pilotscale.store.snapshot import load_view
from pilotscale.web.webapp import create_app
from tests.pilotscale.web.example import KEY, NASTY_NAME, NASTY_TITLE, NOW, build_store

__all__ = ["KEY", "NASTY_NAME", "NASTY_TITLE", "NOW"]

PROXY = "10.9.8.7"


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
