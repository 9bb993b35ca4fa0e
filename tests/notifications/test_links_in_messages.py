"""Messages that point to the web, delivered for real: an approval request reaches an
aiosmtpd server with a button and the same plain link, signed for that approver, gate
and visit; the email headers; the fallback without links; a chat room gets no signed
link; and neither the key nor any token is left in the store, the outbox or the logs."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.decisions import Action, Decision
from pilotscale.core.gates import GateResult, PhaseVerdict
from pilotscale.core.messages import Message, for_decision
from pilotscale.core.phases import DeptState
from pilotscale.core.states import Outcome, Status
from pilotscale.engine.dispatcher import dispatch
from pilotscale.engine.message_links import LinkMaker
from pilotscale.links import Purpose, Signer, visit_key
from pilotscale.models import Department
from pilotscale.notifications.render import Renderer
from tests.notifications.helpers import (
    CHAT_ENV,
    DEPT_CHAT_ENV,
    NOW,
    SMTP_ENV,
    plan,
    queue,
    rows,
)
from tests.notifications.receivers import HttpReceiver, Mail, SmtpServer

KEY = "links-in-messages-key-Zq9-0123456789"
BASE = "https://pilotscale.test"
SIGNER = Signer(KEY)
LINK = re.compile(r"https://pilotscale\.test/(?:a/[a-z]+|me)/[A-Za-z0-9_.\-]+")
BUTTON = re.compile(
    r'<a href="(https://pilotscale\.test/a/decide/[^"]+)"[^>]*>Approve or reject</a>'
)


def _dispatch(engine: Engine, outbox_dir: Path, maker: LinkMaker | None) -> None:
    report = dispatch(
        engine=engine,
        now=NOW,
        outbox_dir=outbox_dir,
        timeout=3,
        renderer=Renderer(),
        local_delivery=True,  # the chat copies of people who get both go to the folder
        link_maker=maker,
    )
    assert report.errors == []


def _approval_requests() -> list[Message]:
    """What a readiness check queues when Finance is held on its approval gate."""
    result = GateResult(
        "go-ahead", "approval", Outcome.pending, 0, "0 of 1", "1 approval", "waiting"
    )
    here = DeptState("piloting", Status.active)
    decision = Decision(
        "finance", Action.hold, here, here, PhaseVerdict(Outcome.pending, (result,)), 0, "held"
    )
    found = for_decision(plan(), decision, check_key="2026-11-23", phase_entered_at=NOW, now=NOW)
    # The champions' weekly state waits for their list of open items (core.grouping).
    messages = [m for m in found if m.event != "department_state"]
    assert {m.recipient for m in messages} == {"ines.sponsor", "leo.lead"}
    return messages


def _success_story(recipient: str) -> Message:
    context: dict[str, Any] = {
        "program": {"name": "helpdesk-bot", "title": "Helpdesk bot"},
        "department": {"name": "finance", "title": "Finance", "headcount": 120, "wave": 0},
        "as_of": NOW.isoformat(),
        "phase": "operating",
        "phase_title": "Operating",
        "use_cases": [],
        "champions": [],
    }
    return Message("success_story", recipient, "finance:operating", "finance", context)


def _visit(engine: Engine) -> str:
    with Session(engine) as session:
        department = session.exec(select(Department).where(Department.name == "finance")).one()
        return visit_key(department.phase_entered_at)


def _mail_to(smtp: SmtpServer, address: str) -> Mail:
    (mail,) = [m for m in smtp.mails if m.rcpt_tos == [address]]
    return mail


def test_an_approval_request_has_a_button_and_the_same_plain_link_signed_for_the_approver(
    sqlite_engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(sqlite_engine, _approval_requests())

    _dispatch(sqlite_engine, outbox_dir, LinkMaker(SIGNER, BASE))

    mail = _mail_to(smtp, "ines@example.com")
    html, text = mail.part("text/html"), mail.part("text/plain")
    (url,) = set(BUTTON.findall(html))
    assert url in text  # the text part (derived from the HTML) has the same link
    link = SIGNER.read(Purpose.decide, url.removeprefix(f"{BASE}/a/decide/"))
    assert (link.person, link.department, link.gate) == ("ines.sponsor", "finance", "go-ahead")
    assert link.visit == _visit(sqlite_engine) != ""
    assert f"{BASE}/d/finance" in html
    assert f"{BASE}/d/finance" in text
    mine = re.search(rf"{BASE}/me/([A-Za-z0-9_.\-]+)", text)
    assert mine
    assert SIGNER.read(Purpose.mine, mine.group(1)).person == "ines.sponsor"
    assert "pilotscale approve" not in html + text  # Ines is no operator: no CLI
    # A link for one purpose is refused for another: the purpose is signed.
    with pytest.raises(Exception, match="not valid"):
        SIGNER.read(Purpose.attest, url.rsplit("/", 1)[1])
    # Headers: a reply reaches the gate's owner; a machine sent it; nothing to unsubscribe.
    assert mail.message["Reply-To"] == "leo@example.com"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["List-Unsubscribe"] is None
    assert mail.message["X-Notification-Id"]


def test_only_non_essential_messages_can_be_unsubscribed(
    sqlite_engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(sqlite_engine, [_success_story("ines.sponsor"), *_approval_requests()])

    _dispatch(sqlite_engine, outbox_dir, LinkMaker(SIGNER, BASE))

    by_subject = {
        str(m.message["Subject"]): m for m in smtp.mails if m.rcpt_tos == ["ines@example.com"]
    }
    assert len(by_subject) == 2
    story = next(m for s, m in by_subject.items() if "approval" not in s.lower())
    request = next(m for s, m in by_subject.items() if "approval" in s.lower())
    unsubscribe = " ".join(str(story.message["List-Unsubscribe"]).split())
    page, mailto = unsubscribe.split(", ")
    assert page.startswith(f"<{BASE}/me/")
    assert page.endswith(">")
    assert SIGNER.read(Purpose.mine, page[1:-1].rsplit("/", 1)[1]).person == "ines.sponsor"
    assert mailto == "<mailto:leo@example.com?subject=unsubscribe>"
    assert story.message["Reply-To"] == "leo@example.com"  # no gate: the program lead
    assert story.message["Auto-Submitted"] == "auto-generated"
    assert request.message["List-Unsubscribe"] is None


def test_without_links_the_message_says_whom_to_ask_and_operators_get_the_cli(
    sqlite_engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(sqlite_engine, [*_approval_requests(), _success_story("ines.sponsor")])

    _dispatch(sqlite_engine, outbox_dir, None)

    ines = [m for m in smtp.mails if m.rcpt_tos == ["ines@example.com"]]
    for mail in ines:
        everything = mail.part("text/html") + mail.part("text/plain")
        assert BASE not in everything
        assert "pilotscale approve" not in everything
        # Without a page to link to, only a mail to the lead.
        if mail.message["List-Unsubscribe"] is not None:
            assert str(mail.message["List-Unsubscribe"]) == (
                "<mailto:leo@example.com?subject=unsubscribe>"
            )
    request = next(m for m in ines if "approval" in str(m.message["Subject"]).lower())
    text = " ".join(request.part("text/plain").split())
    assert "ask the program lead, Leo Lead (leo@example.com)" in text
    lead = _mail_to(smtp, "leo@example.com")
    assert "pilotscale approve finance go-ahead --by leo@example.com" in lead.part("text/plain")
    assert BASE not in lead.part("text/html")


def test_a_chat_room_gets_the_department_page_and_no_signed_link_nor_the_id(
    sqlite_engine: Engine, http: HttpReceiver, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DEPT_CHAT_ENV, f"json://127.0.0.1:{http.port}/room")
    monkeypatch.setenv(CHAT_ENV, f"json://127.0.0.1:{http.port}/people")
    announce = Message(
        "department_advanced",
        "channel:finance-chat",
        "finance:piloting",
        "finance",
        {
            **_success_story("x").context,
            "from_phase": "planned",
            "to_phase": "piloting",
            "to_phase_title": "Piloting",
            "gates": [],
        },
    )
    welcome = Message(
        "department_advanced", "lola.champion", "finance:piloting", "finance", announce.context
    )
    queue(sqlite_engine, [announce, welcome])

    _dispatch(sqlite_engine, outbox_dir, LinkMaker(SIGNER, BASE))

    ids = {r.recipient_key: r.id for r in rows(sqlite_engine)}
    requests = {r.path: r for r in http.requests}
    room, person = requests["/room"], requests["/people"]
    assert f"({BASE}/d/finance)" in room.body["message"]
    assert LINK.findall(room.body["message"]) == []  # nothing signed in a shared room
    assert LINK.findall(person.body["message"])  # a person gets theirs
    for request, key in ((room, "channel:finance-chat"), (person, "lola.champion")):
        assert ids[key] not in request.body["message"]  # the id is in the header only
        assert request.headers["X-Notification-Id"] == ids[key]
        assert request.body["notification_id"] == ids[key]


def _store_dump(engine: Engine) -> str:
    """Every row of every table of the SQLite store, as text."""
    path = str(engine.url.database)
    lines = []
    with sqlite3.connect(path) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                lines.append(f"{table}: {row!r}")
    return "\n".join(lines)


def test_the_key_and_the_tokens_are_nowhere_but_in_the_messages(
    sqlite_engine: Engine,
    smtp: SmtpServer,
    http: HttpReceiver,
    outbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    monkeypatch.setenv(CHAT_ENV, f"json://127.0.0.1:{http.port}/people")
    welcome = {
        "program": {"name": "helpdesk-bot", "title": "Helpdesk bot"},
        "department": {"name": "finance", "title": "Finance", "headcount": 120, "wave": 0},
        "as_of": NOW.isoformat(),
        "phase": "piloting",
        "phase_title": "Piloting",
        "talking_points": [],
        "resources": [],
        "use_cases": [],
        "sponsor": {"id": "ines.sponsor", "name": "Ines", "email": "ines@example.com"},
        "lead": {"id": "leo.lead", "name": "Leo Lead", "email": "leo@example.com"},
        "champion": {"id": "fran.champion", "name": "Fran", "email": "fran@example.com"},
        "peers": [],
    }
    messages = [
        *_approval_requests(),
        Message("champion_welcome", "fran.champion", "finance:fran", "finance", welcome),
    ]
    queue(sqlite_engine, messages)
    caplog.set_level(logging.DEBUG)

    _dispatch(sqlite_engine, outbox_dir, LinkMaker(SIGNER, BASE))

    sent = [m.message.as_string() for m in smtp.mails] + [
        str(r.body["message"]) for r in http.requests
    ]
    tokens = {url.rsplit("/", 1)[1] for text in sent for url in LINK.findall(text)}
    purposes = {url.split("/")[-2] for text in sent for url in LINK.findall(text)}
    assert {"decide", "acknowledge", "barrier", "me"} <= purposes
    # Every log line but the test's own SMTP receiver's (aiosmtpd logs what it receives).
    ours = [r for r in caplog.records if not r.name.startswith("mail.log")]
    places = {
        "the store": _store_dump(sqlite_engine),
        "the outbox rows": repr([r.model_dump() for r in rows(sqlite_engine)]),
        "the logs": "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in ours),
    }
    assert ours, "nothing was logged: the log check would prove nothing"
    leaks = [
        (where, secret[:12])
        for where, text in places.items()
        for secret in (KEY, *tokens)
        if secret in text
    ]
    assert leaks == []
    assert all(KEY not in text for text in sent)
