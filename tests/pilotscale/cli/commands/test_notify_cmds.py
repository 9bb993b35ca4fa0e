"""`pilotscale outbox`, `outbox retry`, `dispatch` and `notify test`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.dispatcher import dispatch
from pilotscale.notifications.render import Renderer
from tests.cli import run_cli
from tests.notifications.helpers import NOW, PLAN, SMTP_ENV, gate_held, queue, rows
from tests.notifications.receivers import SmtpServer

SECRET = "SeCrEt-Token-123"

# Each test starts the CLI several times, a few seconds each.
pytestmark = pytest.mark.slow


def run(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "250",
        "PILOTSCALE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "PILOTSCALE_DATA_DIR": str(tmp_path / "data"),
        **env,
    }
    environment.pop("PILOTSCALE_DEBUG", None)
    environment.pop(SMTP_ENV, None)
    environment.update(env)
    return run_cli(*args, env=environment, cwd=tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    dispose_engines()


def test_dispatch_then_the_outbox_shows_what_was_sent(store: Engine, tmp_path: Path) -> None:
    queue(store, [gate_held("ines.sponsor"), gate_held("lola.champion")])

    # No channel is set up: the folder takes the messages only because it is asked to.
    sent = run(
        "dispatch", "--as-of", NOW.isoformat(), tmp_path=tmp_path, PILOTSCALE_LOCAL_DELIVERY="true"
    )
    listing = run("outbox", "--json", tmp_path=tmp_path)

    assert sent.returncode == 0, sent.stderr
    assert "dispatched 2: 2 sent (2 to the local folder)" in sent.stdout
    assert len(list((tmp_path / "data" / "outbox").iterdir())) == 2
    shown = json.loads(listing.stdout)
    assert {(r["recipient_key"], r["status"]) for r in shown} == {
        ("ines.sponsor", "sent"),
        ("lola.champion", "sent"),
    }
    assert "context_json" not in shown[0]


def test_dead_messages_are_listed_with_reasons_and_retried(store: Engine, tmp_path: Path) -> None:
    queue(store, [gate_held("ines.sponsor"), gate_held("leo.lead")])
    os.environ[SMTP_ENV] = SmtpServer().url()  # nothing listens: every email fails
    try:
        dispatch(engine=store, now=NOW, outbox_dir=tmp_path, max_attempts=1, renderer=Renderer())
    finally:
        del os.environ[SMTP_ENV]
    dead = [r for r in rows(store) if r.status == "dead"]
    sent = next(r for r in rows(store) if r.status == "sent")  # the alert's local copy

    listing = run("outbox", "--status", "dead", tmp_path=tmp_path)
    refused = run("outbox", "retry", sent.id[:8], tmp_path=tmp_path)
    retried = run("outbox", "retry", "--dead", tmp_path=tmp_path)

    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("outbox: ")
    for row in dead:
        assert row.id[:8] in listing.stdout
    assert "Connection error while submitting email" in " ".join(listing.stdout.split())
    assert refused.returncode == 2
    assert "already sent" in refused.stderr
    assert retried.returncode == 0
    assert f"queued again: {len(dead)} notifications" in retried.stdout
    assert {r.status for r in rows(store) if r.id in {d.id for d in dead}} == {"pending"}


def test_notify_test_sends_and_reports(tmp_path: Path) -> None:
    (tmp_path / "plan.yaml").write_text(PLAN)
    server = SmtpServer().start()
    try:
        ok = run(
            "notify",
            "test",
            "email",
            "--to",
            "you@acme.example",
            "--plan",
            "plan.yaml",
            tmp_path=tmp_path,
            **{SMTP_ENV: server.url()},
        )
    finally:
        server.stop()
    down = run(
        "notify",
        "test",
        "email",
        "--plan",
        "plan.yaml",
        "--timeout",
        "2",
        tmp_path=tmp_path,
        **{SMTP_ENV: server.url().replace("mailto://", f"mailto://bot:{SECRET}@")},
    )
    unset = run("notify", "test", "team-chat", "--plan", "plan.yaml", tmp_path=tmp_path)
    typo = run("notify", "test", "emial", "--plan", "plan.yaml", tmp_path=tmp_path)

    assert ok.returncode == 0, ok.stderr
    assert "sent a test message over 'email'" in ok.stdout
    assert "to you@acme.example" in ok.stdout
    (mail,) = server.mails
    assert mail.rcpt_tos == ["you@acme.example"]
    assert mail.message["X-Notification-Id"]
    assert down.returncode == 1  # the channel failed
    assert f"mailto://****:****@127.0.0.1:{server.port}?mode=****&from=****" in down.stderr
    assert f"cannot connect to 127.0.0.1:{server.port}: Connection refused" in down.stderr
    assert SECRET not in down.stderr + down.stdout
    assert unset.returncode == 2
    assert unset.stderr.strip() == (
        "error: channel 'team-chat' is not configured: environment variable PS_TEST_CHAT_URL "
        "is not set; its messages fail until it is"
    )
    assert typo.returncode == 3
    assert "did you mean 'email'" in typo.stderr
