"""Faults: servers down, errors, silence. Every message ends sent or dead, none is lost,
and none arrives twice except after an uncertain timeout, under the same id."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.engine.dispatcher import Backoff, DispatchReport, dispatch
from pilotscale.notifications.render import Renderer
from pilotscale.store.outbox import claim, retry
from tests.notifications.helpers import (
    CHAT_ENV,
    DEPT_CHAT_ENV,
    NOW,
    PLAN,
    SMTP_ENV,
    applied,
    gate_held,
    queue,
    rows,
)
from tests.notifications.receivers import HttpReceiver, SmtpServer, silent_tcp_server
from tests.pilotscale.engine.holder_process import holder_process

FAST = Backoff(base_seconds=60, cap_seconds=3600)


def _run(engine: Engine, outbox_dir: Path, at: datetime, **options: object) -> DispatchReport:
    settings: dict[str, object] = {"timeout": 1.0, "backoff": FAST, "renderer": Renderer()}
    settings.update(options)
    return dispatch(engine=engine, now=at, outbox_dir=outbox_dir, **settings)  # type: ignore[arg-type]


def _emails(people: list[str]) -> list:  # type: ignore[type-arg]
    return [gate_held(p) for p in people]


def test_smtp_down_then_up(
    engine: Engine, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = SmtpServer()  # not started: nothing listens on its port yet
    monkeypatch.setenv(SMTP_ENV, server.url())
    queue(engine, _emails(["ines.sponsor", "leo.lead", "dana.digest"]))

    down = _run(engine, outbox_dir, NOW)
    assert (down.claimed, down.retrying, down.sent) == (3, 3, 0)
    for row in rows(engine):
        assert row.status == "pending"
        assert row.attempts == 1
        assert row.next_attempt_at >= NOW + timedelta(seconds=60)
        assert "Connection error" in (row.last_error or "")
        assert "://" not in (row.last_error or "")  # the row names its channel, not a URL

    server.start()
    try:
        too_early = _run(engine, outbox_dir, NOW + timedelta(seconds=30))
        up = _run(engine, outbox_dir, NOW + timedelta(minutes=2))
    finally:
        server.stop()

    assert too_early.claimed == 0
    assert (up.claimed, up.sent) == (3, 3)
    delivered = Counter(m.message["X-Notification-Id"] for m in server.mails)
    assert delivered == Counter({r.id: 1 for r in rows(engine)})
    assert {(r.status, r.attempts) for r in rows(engine)} == {("sent", 2)}


def test_http_500_and_429_then_success(
    engine: Engine, http: HttpReceiver, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHAT_ENV, f"json://127.0.0.1:{http.port}/hook")
    queue(engine, [gate_held("lola.champion"), gate_held("lola.champion", about="other")])
    http.answer(500, 500, 429, 429, 200)

    first = _run(engine, outbox_dir, NOW)
    errors = {r.last_error for r in rows(engine)}
    second = _run(engine, outbox_dir, NOW + timedelta(minutes=2))
    third = _run(engine, outbox_dir, NOW + timedelta(minutes=10))

    assert (first.retrying, second.retrying, third.sent) == (2, 2, 2)
    assert all("error=500" in (e or "") for e in errors)
    ids = [r.headers["X-Notification-Id"] for r in http.requests]
    assert Counter(ids) == Counter({r.id: 3 for r in rows(engine)})  # 500, 429, 200 each
    assert {r.status for r in rows(engine)} == {"sent"}


def test_a_receiver_that_never_answers_is_uncertain_then_retried_with_the_same_id(
    engine: Engine, http: HttpReceiver, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CHAT_ENV, f"json://127.0.0.1:{http.port}/hook")
    queue(engine, [gate_held("lola.champion")])
    http.answer(0)  # hang

    silent = _run(engine, outbox_dir, NOW, timeout=0.5)
    (row,) = rows(engine)
    assert silent.uncertain == 1
    assert row.status == "uncertain"
    assert "no answer within 0.5s" in (row.last_error or "")

    http.answer(200)
    later = _run(engine, outbox_dir, NOW + timedelta(minutes=5), timeout=0.5)

    assert later.sent == 1
    (row,) = rows(engine)
    assert row.status == "sent"
    assert [r.headers["X-Notification-Id"] for r in http.requests] == [row.id, row.id]


def test_an_smtp_server_that_never_greets_is_uncertain(
    sqlite_engine: Engine, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with silent_tcp_server() as port:
        monkeypatch.setenv(SMTP_ENV, f"mailto://127.0.0.1:{port}?mode=insecure&from=p@acme.example")
        queue(sqlite_engine, [gate_held("ines.sponsor")])
        report = _run(sqlite_engine, outbox_dir, NOW, timeout=0.5)

    assert report.uncertain == 1
    assert rows(sqlite_engine)[0].status == "uncertain"


def test_an_unset_channel_fails_closed_and_delivers_once_it_is_set(
    engine: Engine, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The conftest leaves SMTP_ENV unset: the plan's email channel resolves to nothing.
    queue(engine, _emails(["ines.sponsor", "dana.digest"]))

    first = _run(engine, outbox_dir, NOW)
    assert (first.sent, first.local_files, first.retrying) == (0, 0, 2)
    for row in rows(engine):
        assert (row.channel, row.status, row.attempts) == ("email", "pending", 1)
        assert row.next_attempt_at >= NOW + timedelta(seconds=60)  # backoff, like any failure
        assert row.last_error == (
            f"channel 'email' is not configured: environment variable {SMTP_ENV} is not set"
        )
    last = _run(engine, outbox_dir, NOW + timedelta(hours=1), max_attempts=2)
    gate = {r.id for r in rows(engine) if r.event == "gate_held"}
    assert last.dead == 2
    assert {r.status for r in rows(engine) if r.id in gate} == {"dead"}
    # The lead is told; the folder holds only the alert's own copy, never the messages.
    alerts = [r for r in rows(engine) if r.event == "delivery_failure"]
    assert {r.channel for r in alerts} == {"email", "local"}
    assert [p.name for p in outbox_dir.iterdir()] == [
        p.name for p in outbox_dir.glob("*delivery_failure-leo.lead-*.eml")
    ]

    server = SmtpServer().start()
    try:
        monkeypatch.setenv(SMTP_ENV, server.url())
        with Session(engine) as session, session.begin():
            retry(session=session, dead=True, now=NOW + timedelta(hours=2))
        _run(engine, outbox_dir, NOW + timedelta(hours=2))
    finally:
        server.stop()

    assert {m.message["X-Notification-Id"] for m in server.mails} >= gate
    assert {r.status for r in rows(engine) if r.id in gate} == {"sent"}


def test_a_channel_removed_from_the_plan_fails_closed(engine: Engine, outbox_dir: Path) -> None:
    queue(engine, [gate_held("channel:finance-chat")])
    channel = f'  - {{name: finance-chat, kind: chat, url: "env:{DEPT_CHAT_ENV}"}}\n'
    applied(engine, PLAN.replace(channel, "").replace("    chat_channel: finance-chat\n", ""))

    report = _run(engine, outbox_dir, NOW)

    (row,) = rows(engine)
    assert (report.sent, row.status) == (0, "pending")
    assert row.last_error == "channel 'finance-chat' is no longer in the plan"
    assert not outbox_dir.exists()


def test_dead_messages_alert_the_lead_once_and_alerts_never_recurse(
    engine: Engine, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, SmtpServer().url())  # never started: email always fails
    queue(engine, _emails(["ines.sponsor", "dana.digest"]))

    reports = [_run(engine, outbox_dir, NOW + timedelta(hours=h), max_attempts=2) for h in range(6)]

    final = {r.dedupe_key: (r.event, r.channel, r.status) for r in rows(engine)}
    assert sum(r.dead for r in reports) == 3  # two messages, then the alert's email copy
    alerts = [k for k in final if k.startswith("delivery_failure|")]
    assert len(alerts) == 2  # one alert: by email (dead too) and a copy in the local folder
    assert {final[k][1:] for k in alerts} == {("email", "dead"), ("local", "sent")}
    assert {s for _, _, s in final.values()} == {"sent", "dead"}  # none left in between
    (alert_file,) = outbox_dir.glob("*delivery_failure-leo.lead-*.eml")
    text = alert_file.read_text()
    for row in rows(engine):
        if row.event == "gate_held":
            assert row.id in text


def test_a_dispatcher_that_died_mid_batch_is_taken_over_with_the_same_ids(
    engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(engine, _emails(["ines.sponsor", "leo.lead"]))
    claimed = claim(engine=engine, now=NOW, limit=10, lease_seconds=60, worker_id="crashed")

    during_lease = _run(engine, outbox_dir, NOW + timedelta(seconds=30))
    after_lease = _run(engine, outbox_dir, NOW + timedelta(seconds=61))

    assert (during_lease.claimed, after_lease.sent) == (0, 2)
    assert sorted(m.message["X-Notification-Id"] for m in smtp.mails) == sorted(
        c.id for c in claimed
    )


def test_a_dispatcher_killed_mid_send_is_taken_over_at_once_a_running_one_is_left_alone(
    engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(engine, _emails(["ines.sponsor", "leo.lead", "dana.digest"]))
    with holder_process() as (child, holder):
        claimed = claim(engine=engine, now=NOW, limit=10, lease_seconds=300, worker_id=holder)

        # Its holder still runs: its rows wait for their lease, and the run says so.
        running = _run(engine, outbox_dir, NOW + timedelta(seconds=5))
        assert (running.claimed, running.reclaimed, running.held_elsewhere) == (0, 0, 3)
        assert "3 being sent by another dispatcher (lease until" in running.summary()

        child.kill()
        child.wait()
        # Gone: the next run takes its rows back at once, long before the lease ends.
        taken = _run(engine, outbox_dir, NOW + timedelta(seconds=10))

    assert (taken.claimed, taken.sent, taken.reclaimed, taken.held_elsewhere) == (3, 3, 3, 0)
    assert "3 taken back from a dispatcher that stopped mid-send" in taken.summary()
    assert sorted(m.message["X-Notification-Id"] for m in smtp.mails) == sorted(
        c.id for c in claimed
    )
    assert {r.status for r in rows(engine)} == {"sent"}


def test_two_dispatchers_at_once_send_each_message_once(
    engine: Engine, smtp: SmtpServer, outbox_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SMTP_ENV, smtp.url())
    queue(engine, [gate_held("ines.sponsor", about=f"check-{i}") for i in range(60)])
    barrier = threading.Barrier(2)
    reports: list[DispatchReport] = []

    def run(worker: str) -> None:
        barrier.wait()
        reports.append(_run(engine, outbox_dir, NOW, worker_id=worker, batch_size=7, concurrency=4))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sum(r.sent for r in reports) == 60
    delivered = Counter(m.message["X-Notification-Id"] for m in smtp.mails)
    assert len(delivered) == 60
    assert set(delivered.values()) == {1}
