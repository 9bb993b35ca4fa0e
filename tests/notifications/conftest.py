"""Loopback receivers and a clean channel environment for the notification tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilotscale.db import dispose_engines, get_engine
from tests.notifications.helpers import CHAT_ENV, DEPT_CHAT_ENV, SMTP_ENV
from tests.notifications.receivers import HttpReceiver, SmtpServer


@pytest.fixture(autouse=True)
def no_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every channel starts unconfigured; a test sets the ones it uses."""
    for name in (SMTP_ENV, CHAT_ENV, DEPT_CHAT_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def http() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def outbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A store in a SQLite file, for tests about delivery rather than the database."""
    yield get_engine(f"sqlite:///{tmp_path / 'store' / 'pilotscale.db'}")
    dispose_engines()
