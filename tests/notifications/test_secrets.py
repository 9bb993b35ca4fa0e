"""A channel URL is a secret: it never reaches logs, the database, reports or errors."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from flows.dispatch_notifications import report_fields
from notifications.dispatch import Backoff, DispatchReport, dispatch
from notifications.redact import install_log_guards
from notifications.render import Renderer
from tests.notifications.helpers import CHAT_ENV, DEPT_CHAT_ENV, NOW, SMTP_ENV, gate_held, queue
from tests.notifications.receivers import HttpReceiver, SmtpServer

SECRET = "SeCrEt-Token-123"


def _everything_stored(engine: Engine) -> str:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM notification")).all()
    return "\n".join(repr(tuple(row)) for row in rows)


def _debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    install_log_guards()
    # After the guards, so even a deployment that turns Apprise's DEBUG on is covered.
    for name in (None, "apprise", "urllib3", "urllib3.connectionpool"):
        caplog.set_level(logging.DEBUG, logger=name)


def test_failing_channels_never_leak_their_url(
    engine: Engine,
    http: HttpReceiver,
    outbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _debug_everywhere(caplog)
    monkeypatch.setenv(SMTP_ENV, SmtpServer().url().replace("mailto://", f"mailto://bot:{SECRET}@"))
    monkeypatch.setenv(CHAT_ENV, f"json://user:{SECRET}@127.0.0.1:{http.port}/in")
    monkeypatch.setenv(DEPT_CHAT_ENV, f"mmost://127.0.0.1:{http.port}/{SECRET}")
    queue(
        engine,
        [gate_held("fran.champion"), gate_held("lola.champion"), gate_held("channel:finance-chat")],
    )
    http.answer(500, 500, 500, 0)  # errors, then silence

    reports: list[DispatchReport] = [
        dispatch(
            engine=engine,
            now=NOW + timedelta(hours=hour),
            outbox_dir=outbox_dir,
            timeout=0.5,
            max_attempts=2,
            backoff=Backoff(base_seconds=60),
            renderer=Renderer(),
        )
        for hour in range(4)
    ]

    # Four messages and the lead's alert by email died: the sends really failed.
    assert sum(r.dead for r in reports) == 5
    assert "mmost://127.0.0.1" in _everything_stored(engine)  # masked URLs are recorded
    assert any("POST /" in r.message or "Mattermost" in r.message for r in caplog.records)
    assert SECRET not in caplog.text
    assert SECRET not in _everything_stored(engine)
    for report in reports:
        assert SECRET not in repr(report_fields(report))
    for path in outbox_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text()


def test_apprise_debug_lines_with_the_url_are_scrubbed(
    http: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    from notifications.channels import mask

    _debug_everywhere(caplog)
    url = f"mmost://127.0.0.1:{http.port}/{SECRET}"
    mask(url)  # what resolving a channel does: registers the URL's secret parts

    logging.getLogger("apprise").debug("Mattermost webhook POST URL: %s", url)
    logging.getLogger("urllib3.connectionpool").debug('"POST /hooks/%s HTTP/1.1" 500 2', SECRET)

    assert SECRET not in caplog.text
    assert caplog.text.count("****") >= 2
