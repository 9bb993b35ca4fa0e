"""A channel URL is a secret: it never reaches logs, the database, reports or errors."""

from __future__ import annotations

import logging
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.dispatcher import Backoff, DispatchReport, dispatch
from pilotscale.flows.dispatch_notifications import report_fields
from pilotscale.notifications.render import Renderer
from pilotscale.redact import install_log_guards
from pilotscale.settings import get_settings
from tests.notifications.helpers import (
    CHAT_ENV,
    DEPT_CHAT_ENV,
    NOW,
    PLAN,
    SMTP_ENV,
    gate_held,
    queue,
)
from tests.notifications.receivers import HttpReceiver, SmtpServer, free_port

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


def _store_dump(engine: Engine) -> str:
    """Every row of every table, as text."""
    lines = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                lines.append(f"{table}: {tuple(row)!r}")
    return "\n".join(lines)


# One channel URL per scheme, with a secret in every place one can hide: user, password,
# path, a query value, an Apprise `+Header=` value, and the host where the scheme puts a
# token there. Placeholders: {u} {p} {path} {q} {h} {host} secrets; {http} a receiver
# answering 500; {closed} a port where nothing listens.
SCHEMES = {
    "mailto": (
        "email",
        "mailto://{u}:{p}@127.0.0.1:{closed}/{path}?mode=insecure"
        "&from=p@acme.example&name={q}&+X-Api-Key={h}",
    ),
    "mailtos": (
        "email",
        "mailtos://{u}:{p}@127.0.0.1:{closed}/{path}?from=p@acme.example&name={q}&+X-Api-Key={h}",
    ),
    "json": ("chat", "json://{u}:{p}@127.0.0.1:{http}/hooks/{path}?token={q}&+X-Api-Key={h}"),
    "jsons": ("chat", "jsons://{u}:{p}@127.0.0.1:{http}/{path}?token={q}&+X-Api-Key={h}"),
    "xml": ("chat", "xml://{u}:{p}@127.0.0.1:{http}/{path}?token={q}&+X-Api-Key={h}"),
    "form": ("chat", "form://{u}:{p}@127.0.0.1:{http}/{path}?token={q}&+X-Api-Key={h}"),
    "mmost": ("chat", "mmost://{u}@127.0.0.1:{http}/{path}?channel={q}&+X-Api-Key={h}"),
    "slack": ("chat", "slack://{host}/{path}/{p}?footer=no&token={q}&+X-Api-Key={h}"),
    "discord": ("chat", "discord://{host}/{path}?avatar_url={q}&+X-Api-Key={h}"),
    "workflows": ("chat", "workflows://127.0.0.1:{http}/{path}/{p}?token={q}&+X-Api-Key={h}"),
    "msteams": ("chat", "msteams://{host}/{path}/{p}/{u}?token={q}&+X-Api-Key={h}"),
}


def _readable(message: Message) -> str:
    """An email as a person reads it: headers and every part decoded (a secret in a
    base64 or quoted-printable part would not show in the raw text)."""
    parts = [
        str(part.get_payload(decode=True) or b"", "utf-8", "replace") for part in message.walk()
    ]
    return "\n".join([str(message.items()), *parts])


def _cli(*args: str) -> str:
    """The real command, in this process (so its DEBUG log lines are captured too)."""
    from typer.testing import CliRunner

    from pilotscale.cli.main import app

    result = CliRunner().invoke(app, list(args))
    # A CliError is printed by main() as the exception's text: it is output too.
    return f"{result.stdout}\n{result.stderr}\n{result.exception or ''}"


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_part_of_a_channel_url_stays_secret_everywhere(
    scheme: str,
    tmp_path: Path,
    http: HttpReceiver,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Unique per scheme: another test's registration cannot hide a leak here.
    secrets = {part: f"{part}Zq9{scheme}" for part in ("u", "p", "path", "q", "h", "host")}
    kind, template = SCHEMES[scheme]
    url = template.format(**secrets, http=http.port, closed=free_port())
    url_env, channel = (SMTP_ENV, "email") if kind == "email" else (CHAT_ENV, "team-chat")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PILOTSCALE_DATABASE_URL", store)
    monkeypatch.setenv("PILOTSCALE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(url_env, url)
    monkeypatch.setenv(DEPT_CHAT_ENV, url if kind == "chat" else "")
    if kind == "chat":  # the lead's delivery-failure email really goes out by email
        monkeypatch.setenv(SMTP_ENV, smtp.url())
    get_settings.cache_clear()
    _debug_everywhere(caplog)
    http.answer(500)
    (tmp_path / "plan.yaml").write_text(PLAN)
    try:
        engine = get_engine(store)
        queue(
            engine,
            [
                gate_held("fran.champion"),
                gate_held("lola.champion"),
                gate_held("channel:finance-chat"),
            ],
        )
        outputs = [
            # One attempt: the messages die, the lead is alerted, the alert goes out.
            _cli("dispatch", "--as-of", NOW.isoformat(), "--max-attempts", "1", "--timeout", "2"),
            _cli("dispatch", "--as-of", (NOW + timedelta(minutes=1)).isoformat(), "--timeout", "2"),
            _cli(
                "notify", "test", channel, "--plan", str(tmp_path / "plan.yaml"), "--timeout", "2"
            ),
            _cli("outbox", "--limit", "500"),
            _cli("outbox", "--json", "--limit", "500"),
        ]
        stored = _store_dump(engine)
    finally:
        get_settings.cache_clear()
        dispose_engines()

    mails = [_readable(m.message) for m in smtp.mails]  # the alert, and sent emails
    alert_files = [
        _readable(message_from_bytes(p.read_bytes(), policy=policy.default))
        for p in (tmp_path / "data" / "outbox").glob("*delivery_failure*")
    ]
    places = {
        **{f"output {i}": out for i, out in enumerate(outputs)},
        "logs at DEBUG": caplog.text,
        "the store": stored,
        **{f"email {i}": mail for i, mail in enumerate(mails)},
        **{f"alert file {i}": alert for i, alert in enumerate(alert_files)},
    }
    leaks = [
        (where, part)
        for where, txt in places.items()
        for part, secret in secrets.items()
        if secret in txt
    ]
    assert leaks == []
    # The secrets were in play: the messages died and the lead's alert lists them...
    assert alert_files
    alerts = alert_files + [m for m in mails if "gave up delivering" in m]
    assert all("gate_held to fran.champion over" in alert for alert in alerts)
    assert len(alerts) == (1 if kind == "email" else 2)  # by email too, where email works
    # ...the masked URL was shown, and the store holds channel names, never a URL.
    assert "****" in outputs[2]
    assert "://" not in stored
    if scheme == "json":  # the header really was sent: it is the receiver's to see
        assert {r.headers.get("X-Api-Key") for r in http.requests} == {secrets["h"]}


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
    assert "'email'" in _everything_stored(engine)  # the channel is named, by name only
    assert "://" not in _everything_stored(engine)
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
    from pilotscale.notifications.channels import mask

    _debug_everywhere(caplog)
    url = f"mmost://127.0.0.1:{http.port}/{SECRET}"
    mask(url)  # what resolving a channel does: registers the URL's secret parts

    logging.getLogger("apprise").debug("Mattermost webhook POST URL: %s", url)
    logging.getLogger("urllib3.connectionpool").debug('"POST /hooks/%s HTTP/1.1" 500 2', SECRET)

    assert SECRET not in caplog.text
    assert caplog.text.count("****") >= 2
