"""How fast the dispatcher delivers to a loopback SMTP server (measured, not asserted).

The server runs in its own process, as a real one would: in this process it would
compete with the dispatcher for the GIL and measure itself as much as the dispatcher.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench.dispatch_bench import smtp_sink
from pilotscale.engine.dispatcher import dispatch
from pilotscale.notifications.render import Renderer
from tests.notifications.helpers import NOW, SMTP_ENV, gate_held, queue, rows

MESSAGES = 500


@pytest.fixture
def smtp_process(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    with smtp_sink(tmp_path) as (port, received):
        yield port, received


@pytest.mark.slow
def test_dispatch_rate_to_loopback_smtp(
    sqlite_engine: Engine,
    smtp_process: tuple[int, Path],
    outbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port, received = smtp_process
    monkeypatch.setenv(SMTP_ENV, f"mailto://127.0.0.1:{port}?mode=insecure&from=p@acme.example")
    queue(sqlite_engine, [gate_held("ines.sponsor", about=f"m{i}") for i in range(MESSAGES)])

    report = dispatch(
        engine=sqlite_engine, now=NOW, outbox_dir=outbox_dir, timeout=10, renderer=Renderer()
    )

    assert report.sent == MESSAGES
    assert {r.status for r in rows(sqlite_engine)} == {"sent"}
    ids = [line.split()[0] for line in received.read_text().splitlines()]
    assert sorted(ids) == sorted(r.id for r in rows(sqlite_engine))
    with capsys.disabled():
        print(
            f"\ndispatch: {MESSAGES} emails to loopback SMTP in {report.seconds:.2f}s = "
            f"{MESSAGES / report.seconds:.0f} messages/s (target 200)"
        )
