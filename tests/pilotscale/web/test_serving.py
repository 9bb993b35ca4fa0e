"""`pilotscale serve` runs the web app in a thread beside the flows: it starts on its port,
answers, and stops; a taken port and an empty store are refused before anything starts."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from pilotscale.db import dispose_engines, get_engine
from pilotscale.store.queries import NoProgram
from pilotscale.web.serving import PortInUse, start_in_thread
from tests.pilotscale.web.conftest import Web


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_web_app_runs_in_a_thread_and_stops(web: Web) -> None:
    port = _free_port()
    running = start_in_thread(engine=web.engine, port=port)
    try:
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert answer.json() == {"ok": True}
        assert "server" not in answer.headers  # no software banner
    finally:
        running.stop()
    assert not running.thread.is_alive()


def test_a_taken_port_is_refused(web: Web) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        with pytest.raises(PortInUse, match="is in use"):
            start_in_thread(engine=web.engine, port=taken.getsockname()[1])


def test_an_empty_store_is_refused(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(NoProgram):
        start_in_thread(engine=engine, port=_free_port())
    dispose_engines()
