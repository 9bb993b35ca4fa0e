"""Outages: receivers that are down, answer 500 or 429, or hang, over many dispatcher runs;
and a store that goes away in the middle of a command.

tests/notifications/test_faults.py covers each fault once, on a few messages; here they
come one after another over a long outage, on the ~140 messages of a real readiness
check, and the promise is checked at the end: after recovery everything is delivered,
nothing is lost, a message arrives twice only after a send that may have arrived (a hang),
and an outage longer than the retries ends dead with one alert to the lead.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, make_url

from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.dispatcher import Backoff, DispatchReport, dispatch
from pilotscale.notifications.alerts import LISTED
from pilotscale.notifications.render import Renderer
from tests.notifications.receivers import SmtpServer
from tests.reliability import outage_child, scenario
from tests.reliability.crash_harness import ROOT, rows

pytestmark = pytest.mark.slow

TIMEOUT = 1.0
BACKOFF = Backoff(base_seconds=60, cap_seconds=3600)


class FlakyWebhook:
    """A json:// receiver whose answer is set per dispatcher run: 'ok', '500', '429' or
    'hang' (no answer until the sender gave up). It keeps the notification id of every
    request it accepted, and of every request that hung (the sender cannot tell whether
    those arrived)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.accepted: list[str] = []
        self.hung: list[str] = []
        self.faults = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                notification = json.loads(body or b"{}").get("notification_id", "-")
                mode = receiver.mode
                with lock:
                    if mode == "ok":
                        receiver.accepted.append(notification)
                    elif mode == "hang":
                        receiver.hung.append(notification)
                    receiver.faults += mode != "ok"
                if mode == "hang":
                    time.sleep(TIMEOUT + 0.5)
                status = {"ok": 200, "500": 500, "429": 429, "hang": 200}[mode]
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[FlakyWebhook]:
    receiver = FlakyWebhook()
    yield receiver
    receiver.stop()


def _queue(engine: Engine) -> list[str]:
    """The scenario's readiness check: ~140 messages by email and chat; their ids."""
    scenario.build(engine, 12)
    setup = {r.id for r in rows(engine)}
    run_readiness_check(engine=engine, now=scenario.CHECK_AT)
    return [r.id for r in rows(engine) if r.id not in setup]


def _dispatch(engine: Engine, outbox: Path, run: int, **options: Any) -> DispatchReport:
    return dispatch(
        engine=engine,
        now=scenario.CHECK_AT + timedelta(hours=2 * run),
        outbox_dir=outbox,
        renderer=Renderer(),
        timeout=TIMEOUT,
        backoff=BACKOFF,
        concurrency=16,
        **options,
    )


def test_a_long_outage_of_both_channels_loses_nothing(
    engine: Engine,
    webhook: FlakyWebhook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str], None],
) -> None:
    smtp = SmtpServer()  # down: nothing listens on its port until run 4
    monkeypatch.setenv(scenario.SMTP_ENV, smtp.url())
    monkeypatch.setenv(scenario.CHAT_ENV, f"json://127.0.0.1:{webhook.port}/hook")
    queued = _queue(engine)
    outbox = tmp_path / "outbox"
    # One fault per run for chat; email is refused until it comes back.
    chat_faults = ["500", "429", "hang", "500", "ok", "ok", "ok"]
    reports = []
    uncertain: set[str] = set()  # sends that may have arrived: the only ones allowed twice
    try:
        for run, mode in enumerate(chat_faults):
            webhook.mode = mode
            if run == 4:
                smtp.start()
            reports.append(_dispatch(engine, outbox, run))
            uncertain |= {r.id for r in rows(engine) if r.status == "uncertain"}
    finally:
        smtp.stop()

    final = {r.id: r for r in rows(engine) if r.id in set(queued)}
    # A send that hung may have arrived: it counts as a delivery, and may be one of two.
    delivered = Counter(webhook.accepted + webhook.hung) + Counter(
        str(m.message["X-Notification-Id"]) for m in smtp.mails
    )
    lost = [i for i in queued if final[i].status != "sent" or delivered[i] == 0]
    twice = {i for i, n in delivered.items() if n > 1}
    email_faults = sum(r.attempts - 1 for r in final.values() if r.channel == "mail")
    figure(
        f"{len(queued)} messages through {len(chat_faults)} dispatcher runs, "
        f"{webhook.faults} chat faults (500, 429, hang) and {email_faults} refused emails "
        f"injected, {len(twice)} delivered twice after an uncertain send (same id), "
        f"{len(lost)} lost"
    )
    assert lost == []
    assert set(webhook.hung) <= uncertain
    assert twice <= uncertain
    assert sum(r.dead for r in reports) == 0
    assert set(delivered) <= set(final), "something was delivered that the store never held"
    assert webhook.faults > 0
    assert email_faults > 0


def test_an_outage_longer_than_the_retries_ends_dead_with_one_alert(
    engine: Engine,
    webhook: FlakyWebhook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str], None],
) -> None:
    smtp = SmtpServer().start()
    monkeypatch.setenv(scenario.SMTP_ENV, smtp.url())
    monkeypatch.setenv(scenario.CHAT_ENV, f"json://127.0.0.1:{webhook.port}/hook")
    queued = set(_queue(engine))
    webhook.mode = "500"  # for good
    try:
        reports = [_dispatch(engine, tmp_path / "outbox", run, max_attempts=3) for run in range(8)]
    finally:
        smtp.stop()

    final = [r for r in rows(engine) if r.id in queued]
    chat_rows = [r for r in final if r.channel == "team-chat"]
    alerts = [r for r in rows(engine) if r.event == "delivery_failure"]
    figure(
        f"{webhook.faults} failed chat sends over {len(reports)} runs: {len(chat_rows)} chat "
        f"messages dead, emails all sent, {len({a.dedupe_key.split('|')[1] for a in alerts})} "
        "alert to the lead, 0 lost"
    )
    assert {r.status for r in chat_rows} == {"dead"}
    assert {r.status for r in final if r.channel != "team-chat"} == {"sent"}
    assert len({a.dedupe_key.split("|")[1] for a in alerts}) == 1  # one alert...
    assert {a.recipient_key for a in alerts} == {"lead"}  # ...to the lead...
    assert {a.status for a in alerts} == {"sent"}  # ...by email and in the local folder
    (alert_file,) = (tmp_path / "outbox").glob("*delivery_failure-lead-*.eml")
    listed = sum(r.id in alert_file.read_text() for r in chat_rows)
    assert listed == min(len(chat_rows), LISTED)  # the rest are counted, not listed
    assert listed == len(chat_rows) or f"{len(chat_rows) - LISTED} more" in alert_file.read_text()


# --------------------------------------------------------------------------- the store


def test_the_store_going_away_mid_command_is_one_line_and_the_next_run_repairs(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    figure: Callable[[str], None],
) -> None:
    smtp = SmtpServer().start()
    webhook = FlakyWebhook()
    secret = "SeCrEt-Pg-Zq9-pw"
    url = make_url(store_url)
    postgres = url.get_backend_name() == "postgresql"
    if postgres:  # the server trusts local connections: any password works, and shows
        url = url.set(password=secret)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(
        PYTHONPATH=str(ROOT),
        COLUMNS="200",
        PILOTSCALE_DATABASE_URL=url.render_as_string(hide_password=False),
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        PILOTSCALE_SQLITE_BUSY_TIMEOUT_MS="300",
    )
    env[scenario.SMTP_ENV] = smtp.url()
    env[scenario.CHAT_ENV] = f"json://127.0.0.1:{webhook.port}/hook"
    from pilotscale.db import get_engine

    queued = _queue(get_engine(store_url))
    mode = "pg-terminate" if postgres else "sqlite-lock"
    injected, errors = 0, []
    try:
        for attempt, statement in enumerate((2, 3, 5, 8)):
            at = (scenario.CHECK_AT + timedelta(hours=attempt)).isoformat()
            failed = outage_child.run(mode, statement, "dispatch", "--as-of", at, env=env)
            if failed.returncode == 0:
                continue  # the run had fewer statements than that
            injected += 1
            lines = failed.stderr.strip().splitlines()
            if (
                failed.returncode != 1  # a failure: the store
                or len(lines) != 1
                or not lines[0].startswith("error: the store at ")
                or "run the command again" not in lines[0]
                or secret in failed.stderr + failed.stdout
                or "[SQL" in failed.stderr
            ):
                errors.append(f"statement {statement}: exit {failed.returncode}: {failed.stderr}")
        later = (scenario.CHECK_AT + timedelta(hours=12)).isoformat()
        repaired = outage_child.run("none", 0, "dispatch", "--as-of", later, env=env)
    finally:
        smtp.stop()
        webhook.stop()

    final = {r.id: r.status for r in rows(get_engine(store_url))}
    delivered = Counter(webhook.accepted) + Counter(
        str(m.message["X-Notification-Id"]) for m in smtp.mails
    )
    lost = [i for i in queued if final[i] != "sent" or delivered[i] == 0]
    figure(
        f"{injected} store outages ({mode}) injected mid-dispatch, each one line with no "
        f"password; the next run delivered the rest: {len(queued)} messages, {len(lost)} lost"
    )
    assert errors == []
    assert injected >= 3
    assert repaired.returncode == 0, repaired.stderr
    assert lost == []
