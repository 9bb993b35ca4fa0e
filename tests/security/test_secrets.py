"""Secrets never leave their variable: a channel token (in a URL's password, path, query
value and `+Header=` value), a database password and the key that signs the links in
messages, set in the environment, appear in no output of any command (Prefect and
Apprise logging at DEBUG), no file pilotscale or Prefect writes (logs, artifacts, the
outbox folder, the report), no row of the store, and no message sent. The signed links
themselves appear only in the messages that carry them. The story runs through the
real commands, Prefect flows included.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from tests.cli import run_cli
from tests.conftest import PG_HOST, PG_MAINTENANCE_URL, PG_PORT, require_postgres
from tests.notifications.receivers import HttpReceiver, free_port
from tests.security.hostile import EXAMPLE

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

TOKEN = "SeCrEt-Zq9-token"
PASSWORD = "SeCrEt-Pg-Zq9-pw"
HEADER = "SeCrEt-Hd-Zq9-key"  # an API key in an Apprise `+Header=` value
QUERY = "SeCrEt-Qy-Zq9-val"  # a token in a query value
LINK_KEY = "SeCrEt-Lk-Zq9-signing-key"  # signs the links in messages
SECRETS = (TOKEN, PASSWORD, HEADER, QUERY, LINK_KEY)
WEB = "https://pilotscale.test"
SIGNED_LINK = re.compile(r"https://pilotscale\.test/(?:a/[a-z]+|me)/([A-Za-z0-9_.\-]+)")
LEAD = "maria.lopez@acme.example"


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database, reached with a password in its URL (the server trusts
    local connections, so any password works: what matters is where it shows up)."""
    require_postgres()
    name = f"pilotscale_secret_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Story:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.cwd = tmp_path
        self.env = env
        self.outputs: list[tuple[str, str]] = []

    def run(self, *args: str, expect: int | None = 0, **extra_env: str) -> str:
        result = run_cli(*args, env={**self.env, **extra_env}, cwd=self.cwd, timeout=300)
        command = " ".join(args)
        self.outputs.append((f"{command} (stdout)", result.stdout))
        self.outputs.append((f"{command} (stderr)", result.stderr))
        if expect is not None:
            assert result.returncode == expect, f"{command}: {result.stderr}"
        return result.stdout


def _files(root: Path) -> Iterator[Path]:
    yield from (p for p in root.rglob("*") if p.is_file())


def _store_dump(database: str) -> str:
    """Every row of every table of the store, as JSON text."""
    url = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{database}"
    lines = []
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            for (row,) in connection.execute(f'SELECT row_to_json(t)::text FROM "{table}" t'):
                lines.append(f"{table}: {row}")
    return "\n".join(lines)


def test_a_token_and_a_password_appear_nowhere(
    tmp_path: Path, database: str, figure: Callable[[str], None]
) -> None:
    chat = HttpReceiver().start()
    closed_smtp = free_port()  # nothing listens: every email fails and says why
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTSCALE_", "PREFECT_"))}
    env.update(
        COLUMNS="200",
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # A fresh PREFECT_HOME migrates its database first; on a busy 2-core machine the
        # default 20 s is not always enough.
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        PILOTSCALE_DATA_DIR=str(tmp_path / "data"),
        PILOTSCALE_DATABASE_URL=(
            f"postgresql://postgres:{PASSWORD}@{PG_HOST}:{PG_PORT}/{database}"
        ),
        PILOTSCALE_SMTP_URL=(
            f"mailto://pilot:{TOKEN}@127.0.0.1:{closed_smtp}?mode=insecure&from=p@acme.example"
            f"&+X-Api-Key={HEADER}&name={QUERY}"
        ),
        PILOTSCALE_BASE_URL=WEB,
        PILOTSCALE_LINK_SECRET=LINK_KEY,
        PILOTSCALE_CHAT_URL=(
            f"json://127.0.0.1:{chat.port}/hooks/{TOKEN}?+X-Api-Key={HEADER}&token={QUERY}"
        ),
        # Every log line there is, at DEBUG, is an output too.
        PREFECT_LOGGING_LEVEL="DEBUG",
        PREFECT_LOGGING_ROOT_LEVEL="DEBUG",
        PILOTSCALE_VERBOSE="1",  # the libraries' own log lines too
    )
    story = Story(tmp_path, env)
    try:
        story.run("db", "current")
        story.run("apply", str(EXAMPLE), "--allow-incomplete")
        story.run("notify", "test", "email", expect=None)
        story.run("notify", "test", "ai-rollout", expect=None)
        story.run("start", "hr", "--by", LEAD, "--as-of", "2026-11-02T09:00+00:00")
        # The SMTP port is closed: done, with messages not delivered (exit 5).
        story.run("check", "--as-of", "2026-11-09T09:00+00:00", expect=5)
        story.run("dispatch", "--as-of", "2026-11-09T10:00+00:00", "--timeout", "2", expect=None)
        story.run("outbox", "--json", "--limit", "500")
        status = story.run("status", "--json", "--as-of", "2026-11-09T09:00+00:00")
        story.run("explain", "hr", "--as-of", "2026-11-09T09:00+00:00")
        story.run("report", "--out", str(tmp_path / "report.html"), expect=None)
        # The same store on a port where nothing listens: the error names the store.
        unreachable = env["PILOTSCALE_DATABASE_URL"].replace(str(PG_PORT), str(free_port()))
        story.run("status", expect=1, PILOTSCALE_DATABASE_URL=unreachable)
        story.run("db", "current", expect=1, PILOTSCALE_DATABASE_URL=unreachable)
    finally:
        chat.stop()

    places = list(story.outputs)
    places += [
        (str(p.relative_to(tmp_path)), p.read_bytes().decode("utf-8", "replace"))
        for p in _files(tmp_path)
    ]
    places.append(("the store", _store_dump(database)))
    places += [(f"chat message {i}", json.dumps(r.body)) for i, r in enumerate(chat.requests)]
    leaks = [(where, secret) for where, text in places for secret in SECRETS if secret in text]

    prefect_files = [p for p in _files(tmp_path / "prefect")]
    outbox = [p for p in _files(tmp_path / "data")]
    figure(
        f"{len(SECRETS)} secrets grepped in {len(places)} places "
        f"({len(story.outputs)} command outputs, "
        f"{len(prefect_files)} Prefect files, {len(outbox)} outbox/data files, the report, "
        f"{len(chat.requests)} chat messages, the store): {len(leaks)} leaks"
    )
    assert leaks == []
    # Each signed link sent is in its message and nowhere else.
    sent = [json.dumps(r.body) for r in chat.requests]
    tokens = {m.group(1) for text in sent for m in SIGNED_LINK.finditer(text)}
    assert tokens, "no message carried a signed link"
    token_leaks = [
        (where, token[:12])
        for where, text in places
        if not where.startswith("chat message")
        for token in tokens
        if token in text
    ]
    assert token_leaks == []
    # The story really exercised the secrets: messages went out on the chat channel, the
    # masked URLs were printed, the report and the status exist.
    assert chat.requests, "nothing was sent to the chat channel"
    assert {r.headers.get("X-Api-Key") for r in chat.requests} == {HEADER}
    assert json.loads(status)["departments"]
    assert (tmp_path / "report.html").is_file()
    shown = "\n".join(text for _, text in story.outputs)
    assert "***" in shown, "no masked URL was shown anywhere: the secrets were never in play"
