"""The loop closed from the message itself, end to end: a readiness check queues the
messages, the dispatcher delivers them to a real SMTP server (aiosmtpd) with signed links
to a real uvicorn server, and headless Chromium follows the links found in those emails.

A champion acknowledges, a gate owner attests with evidence, an approver rejects (the
gate holds, with the reason, on the department page and the board) and then approves
from their own "my actions" page, and a champion reports a barrier. Each shows after a
reload. Screenshots of each step are saved to the directory the test prints.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine

from pilotscale.core.phases import Event
from pilotscale.db import dispose_engines, get_engine
from pilotscale.demo import LEAD
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.dispatcher import dispatch
from pilotscale.engine.message_links import LinkMaker
from pilotscale.links import Signer
from pilotscale.notifications.render import Renderer
from tests.notifications.receivers import SmtpServer
from tests.pilotscale.web.conftest import make_app
from tests.pilotscale.web.example import KEY, NOW, build_store
from tests.pilotscale.web.test_browser import _chromium, _free_port

SMTP_ENV = "PILOTSCALE_SMTP_URL"


@dataclass
class Served:
    base: str
    engine: Engine
    smtp: SmtpServer

    def texts_to(self, address: str) -> list[str]:
        """The plain-text parts of every email delivered to `address`."""
        found = []
        for mail in self.smtp.mails:
            if address not in mail.rcpt_tos:
                continue
            found.append(mail.part("text/plain"))
        return found

    def link(self, address: str, kind: str) -> str:
        """The first link of `kind` ('a/acknowledge', 'me', ...) in `address`'s emails."""
        pattern = re.compile(re.escape(self.base) + "/" + kind + r"/[A-Za-z0-9_.\-]+")
        for text in self.texts_to(address):
            found = pattern.search(text)
            if found:
                return found.group(0)
        raise AssertionError(f"no {kind} link in the emails to {address}")


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    build_store(engine)
    # Customer service was rolled back to scaling; resumed, the check holds it on its
    # approval and asks its approvers, while HR and Sales are held in preparing.
    operator.operate(
        engine=engine,
        department="customer-service",
        event=Event.resume,
        actor=cli_actor(LEAD),
        reason="pilot re-checked",
        now=NOW - timedelta(hours=1),
    )
    run_readiness_check(engine=engine, now=NOW)
    smtp = SmtpServer().start()
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    signer = Signer(KEY)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(
        uvicorn.Config(make_app(engine, signer), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    report = dispatch(
        engine=engine,
        now=NOW,
        outbox_dir=tmp_path / "outbox",
        timeout=5,
        renderer=Renderer(),
        local_delivery=True,  # chat copies (no chat server here) go to the folder
        link_maker=LinkMaker(signer, base),
    )
    assert report.errors == []
    try:
        yield Served(base, engine, smtp)
    finally:
        server.should_exit = True
        thread.join(10)
        smtp.stop()
        dispose_engines()


def test_people_act_from_the_links_in_their_emails(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    ack = served.link("ana.ruiz@acme.example", "a/acknowledge")
    barrier = served.link("carmen.diaz@acme.example", "a/barrier")
    attest = served.link("jorge.navarro@acme.example", "a/attest")
    decide = served.link("elena.garcia@acme.example", "a/decide")
    mine = served.link("elena.garcia@acme.example", "me")
    # The links are the web app's, the emails say what to do in words, not commands.
    assert all("pilotscale approve" not in t for t in served.texts_to("elena.garcia@acme.example"))

    shots = tmp_path / "screenshots"
    shots.mkdir()
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        def confirm(url: str, button: str, **fields: str) -> str:
            page.goto(url)
            for label, value in fields.items():
                page.get_by_label(label).fill(value)
            page.get_by_role("button", name=button).click()
            page.wait_for_load_state()
            main = page.locator("main").inner_text()
            assert page.locator("h1").inner_text() == "Recorded", main
            return main

        # A champion accepts the role.
        confirm(ack, "I accept the champion role")
        page.goto(served.base + "/d/hr")
        assert "✓ acknowledged" in page.locator("#champions-table").inner_text()

        # The gate's owner attests, with evidence.
        page.goto(attest)
        page.screenshot(path=str(shots / "attest.png"), full_page=True)
        gate_title = page.locator("h1").inner_text()
        confirm(attest, "Attest", **{"Evidence": "https://wiki.acme.example/ai-policy"})
        department = attest_department(page, served)
        assert "https://wiki.acme.example/ai-policy" in department, gate_title

        # The approver rejects with a reason: the gate holds, and says why.
        page.goto(decide)
        page.screenshot(path=str(shots / "decide.png"), full_page=True)
        confirm(decide, "Reject", Comment="No support rota for the night shift yet")
        page.goto(served.base + "/d/customer-service")
        gates = page.locator("#gates-table").inner_text()
        assert "No support rota for the night shift yet" in gates
        assert "rejected" in page.locator("#approvals-table").inner_text()
        page.goto(served.base + "/")
        page.reload()
        assert "customer" in page.locator("main").inner_text().lower()
        page.screenshot(path=str(shots / "board.png"), full_page=True)

        # The same link again: used.
        page.goto(decide)
        assert "this link was used" in page.locator("main").inner_text()

        # Later, from their own page (the link in the same email), they approve.
        page.goto(mine)
        page.screenshot(path=str(shots / "my-actions.png"), full_page=True)
        assert "You rejected" in page.locator("main").inner_text()
        page.locator("main a[href*='/a/decide/']").first.click()
        page.wait_for_load_state()
        page.get_by_label("Comment").fill("Rota agreed with the team leads")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Recorded"
        page.goto(served.base + "/d/customer-service")
        approvals = page.locator("#approvals-table").inner_text()
        assert "Rota agreed with the team leads" in approvals
        assert "signed link" in approvals

        # A champion reports a barrier; it shows on the department page.
        confirm(barrier, "Report the barrier", **{"What gets in the way?": "No time set aside"})
        page.goto(served.base + "/d/hr")
        assert "No time set aside" in page.locator("#barriers-table").inner_text()
        page.screenshot(path=str(shots / "department.png"), full_page=True)
        browser.close()

    assert errors == []
    for name in ("attest", "decide", "board", "my-actions", "department"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
    print(f"\nscreenshots: {shots}")
    keep = os.environ.get("PILOTSCALE_KEEP_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)


def attest_department(page, served: Served) -> str:  # type: ignore[no-untyped-def]
    """The text of the department page of the attestation just recorded."""
    link = page.locator("main a[href^='/d/']").first
    href = link.get_attribute("href") if link.count() else "/d/hr"
    page.goto(served.base + (href or "/d/hr"))
    return str(page.locator("#attestations-table").inner_text())
