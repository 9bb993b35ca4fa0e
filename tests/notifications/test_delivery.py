"""Real delivery over loopback: SMTP (aiosmtpd), json:// and Mattermost webhooks."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilotscale.core.messages import Job
from pilotscale.engine.dispatcher import dispatch
from pilotscale.notifications.delivery import chat_title
from pilotscale.notifications.render import Renderer
from tests.notifications.helpers import (
    CHAT_ENV,
    DEPT_CHAT_ENV,
    HOSTILE_NAME,
    NOW,
    SMTP_ENV,
    context_of,
    gate_held,
    queue,
    rows,
)
from tests.notifications.receivers import HttpReceiver, SmtpServer

TOKEN = "SeCrEt-Token-123"


def _dispatch(engine: Engine, outbox_dir: Path, *, local_delivery: bool = False) -> None:
    report = dispatch(
        engine=engine,
        now=NOW,
        outbox_dir=outbox_dir,
        timeout=3,
        renderer=Renderer(),
        local_delivery=local_delivery,
    )
    assert report.errors == []


def test_email_arrives_with_both_parts_and_its_id(
    sqlite_engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(sqlite_engine, [gate_held("fran.champion"), gate_held("dana.digest")])

    # Fran also gets a chat message; chat is not under test here, so the folder takes it.
    _dispatch(sqlite_engine, outbox_dir, local_delivery=True)

    ids = {r.recipient_key: r.id for r in rows(sqlite_engine) if r.channel == "email"}
    mails = {m.rcpt_tos[0]: m for m in smtp.mails}
    assert sorted(mails) == ["dana@example.com", "fran@example.com"]
    mail = mails["fran@example.com"]
    assert mail.mail_from == "pilotscale@acme.example"
    assert mail.message["Subject"] == 'Action needed: Finance is held by "People use it every week"'
    assert mail.message["X-Notification-Id"] == ids["fran.champion"]
    assert mail.message.get_content_type() == "multipart/alternative"
    html, text = mail.part("text/html"), mail.part("text/plain")
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;," in html
    assert HOSTILE_NAME not in html
    # No web address configured: no links, and no CLI for people who are not operators.
    assert "http" not in text.replace("http://www.w3.org", "")
    assert "pilotscale explain" not in html + text
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["Reply-To"] == "it@example.com"  # the gate's owner
    assert mail.message["List-Unsubscribe"] is None  # a gate held is not optional
    assert 'href="javascript' not in html
    assert {r.status for r in rows(sqlite_engine)} == {"sent"}


def test_json_webhook_gets_markdown_header_and_payload_id(
    sqlite_engine: Engine, http: HttpReceiver, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHAT_ENV, f"json://127.0.0.1:{http.port}/hook")
    queue(sqlite_engine, [gate_held("lola.champion")])

    _dispatch(sqlite_engine, outbox_dir)

    (row,) = rows(sqlite_engine)
    (request,) = http.requests
    assert request.path == "/hook"
    assert request.headers["X-Notification-Id"] == row.id
    assert request.body["notification_id"] == row.id
    assert request.body["to"] == "@lola"
    # Rendered at send: the row keeps a plain subject (engine.enqueue).
    assert request.body["title"] == Renderer().subject(row.event, context_of(row))
    assert request.body["title"] != row.subject
    message = request.body["message"]
    assert message.startswith("**Action needed: Finance is held in piloting**")
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in message
    assert "@\u200bchannel" in message
    assert "@channel" not in message
    assert "\\[here\\]\\(javascript:alert\\(1\\)\\)" in message


def test_mattermost_gets_people_by_name_and_no_id_in_the_text(
    sqlite_engine: Engine, http: HttpReceiver, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHAT_ENV, f"mmost://127.0.0.1:{http.port}/{TOKEN}")
    monkeypatch.setenv(DEPT_CHAT_ENV, f"mmost://127.0.0.1:{http.port}/{TOKEN}")
    queue(sqlite_engine, [gate_held("lola.champion"), gate_held("channel:finance-chat")])

    _dispatch(sqlite_engine, outbox_dir)

    ids = {r.recipient_key: r.id for r in rows(sqlite_engine)}
    requests = {r.body.get("channel"): r for r in http.requests}
    assert set(requests) == {"@lola", None}  # a person by name; the webhook's own channel
    for channel, key in (("@lola", "lola.champion"), (None, "channel:finance-chat")):
        request = requests[channel]
        assert request.path == f"/hooks/{TOKEN}"
        # Mattermost webhooks take no headers: the id stays out of what people read.
        assert ids[key] not in request.body["text"]
        assert "X-Notification-Id" not in request.body["text"]
        assert request.body["text"].startswith("**Action needed")
        assert "@channel" not in request.body["text"]


def test_local_delivery_writes_readable_files_for_unset_channels(
    sqlite_engine: Engine, outbox_dir: Path
) -> None:
    queue(sqlite_engine, [gate_held("fran.champion")])

    report = dispatch(
        engine=sqlite_engine,
        now=NOW,
        outbox_dir=outbox_dir,
        renderer=Renderer(),
        local_delivery=True,
    )

    assert (report.sent, report.local_files) == (2, 2)
    email_row, chat_row = sorted(rows(sqlite_engine), key=lambda r: r.channel)
    eml = outbox_dir / f"20261123T090000Z-gate_held-fran.champion-{email_row.id[:8]}.eml"
    md = outbox_dir / f"20261123T090000Z-gate_held-fran.champion-{chat_row.id[:8]}.md"
    assert sorted(p.name for p in outbox_dir.iterdir()) == sorted([eml.name, md.name])
    text = eml.read_text()
    assert f"X-Notification-Id: {email_row.id}" in text
    assert 'To: "<script>alert(1)</script>" <fran@example.com>' in text
    assert "Content-Type: text/plain" in text
    assert "Content-Type: text/html" in text
    assert md.read_text().startswith(f"<!-- X-Notification-Id: {chat_row.id} -->")


def test_a_broken_subject_template_leaves_a_chat_message_its_plain_subject(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    queue(sqlite_engine, [gate_held("lola.champion")])
    (row,) = rows(sqlite_engine)
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / "subject.txt").write_text("{{ nope.nope }}")
    job = Job(row.id, row.program_id, row.event, row.recipient_key, row.channel, row.subject,
              context_of(row), row.created_at, 1)  # fmt: skip

    assert chat_title(job, Renderer(tmp_path)) == row.subject
    assert chat_title(job, Renderer()) == Renderer().subject(row.event, context_of(row))
