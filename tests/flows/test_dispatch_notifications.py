"""The dispatch-notifications flow and Prefect Secret channels, on a real Prefect server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.blocks.system import Secret
from prefect.testing.utilities import prefect_test_harness

from pilotscale.db import dispose_engines, get_engine
from pilotscale.flows.dispatch_notifications import dispatch_notifications
from pilotscale.notifications.channels import resolve
from pilotscale.plan.schema import Channel
from pilotscale.settings import get_settings
from tests.notifications.helpers import NOW, gate_held, queue, rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_server() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=60):
        yield


def test_a_secret_block_holds_the_channel_url(prefect_server: None) -> None:
    Secret(value="mmost://chat.acme.example/SeCrEt-Token-123").save(
        "hr-chat-webhook", overwrite=True
    )

    found = resolve(Channel(name="hr-chat", kind="chat", url="secret:hr-chat-webhook"))
    missing = resolve(Channel(name="x", kind="chat", url="secret:no-such-block"))

    assert found.url == "mmost://chat.acme.example/SeCrEt-Token-123"
    assert "SeCrEt-Token-123" not in found.masked
    assert not missing.configured


def test_the_flow_sends_what_is_due(
    prefect_server: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("PILOTSCALE_DATABASE_URL", url)
    monkeypatch.setenv("PILOTSCALE_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PILOTSCALE_LOCAL_DELIVERY", "true")  # no channel is set up here
    get_settings.cache_clear()
    try:
        engine = get_engine(url)
        queue(engine, [gate_held("ines.sponsor"), gate_held("fran.champion")])

        result = asyncio.run(dispatch_notifications(as_of=NOW))

        assert (result["sent"], result["local_files"], result["dead"]) == (3, 3, 0)
        assert {r.status for r in rows(engine)} == {"sent"}
        assert len(list((tmp_path / "outbox").iterdir())) == 3
    finally:
        get_settings.cache_clear()
        dispose_engines()
