"""A real uvicorn server on a loopback port and headless Chromium (Debian's, driven by
Playwright): a champion opens their acknowledge link, confirms, and the department page
shows it after a reload; a sponsor pauses their department from a link, and the board
(kept between requests) shows it after a reload. Screenshots of the board, a department page and an
action page are saved to the directory the test prints."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlmodel import Session

from pilotscale.db import dispose_engines, get_engine
from pilotscale.links import Link, Purpose, Signer, visit_key
from pilotscale.store.snapshot import load_view
from tests.pilotscale.web.conftest import make_app
from tests.pilotscale.web.example import KEY, build_store

CHROMIUM = "/usr/bin/chromium"


def _chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI is set: .ci/run installs it")
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base URL, Ana's acknowledge link, Sales' sponsor's pause link) on a real server
    in a thread."""
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    build_store(engine)
    signer = Signer(KEY)
    with Session(engine) as session:
        view = load_view(session=session)
    hr, sales = (visit_key(view.department(d).phase_entered_at) for d in ("hr", "sales"))
    token = signer.sign(Link(Purpose.acknowledge, "ana.ruiz", "hr", "", hr))
    pause = signer.sign(Link(Purpose.operate, "raul.vega", "sales", "", sales))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(make_app(engine, signer), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", f"/a/acknowledge/{token}", f"/a/operate/{pause}"
    finally:
        server.should_exit = True
        thread.join(10)
        dispose_engines()


def test_a_champion_acknowledges_from_a_link_in_a_real_browser(
    served: tuple[str, str, str], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    base, link, pause = served
    shots = tmp_path / "screenshots"
    shots.mkdir()
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        page.goto(base + link)
        assert page.locator("h1").inner_text() == "Accept the champion role"
        # The champion's name and the department's title are text, not markup.
        assert '<b>Zoë "@channel" O\'Brien</b>' in page.locator("dl.facts").inner_text()
        page.screenshot(path=str(shots / "action.png"), full_page=True)

        page.get_by_role("button", name="I accept the champion role").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Recorded"
        assert "acknowledged the champion role" in page.locator("main").inner_text()

        page.goto(base + "/d/hr")
        page.reload()
        row = page.locator("#champions-table tr", has_text="O'Brien")
        assert "✓" in row.inner_text()
        page.screenshot(path=str(shots / "department.png"), full_page=True)

        page.goto(base + link)  # the used link: nothing more to confirm
        assert "Nothing more to do here" in page.locator("main").inner_text()
        assert page.locator("form.act").count() == 0

        page.goto(base + "/")  # the board, computed and kept
        sales = page.locator('#phase-board tr[data-department="sales"]')
        assert "\theld\t" in sales.inner_text()  # the vocabulary's word, not the status
        page.goto(base + pause)  # the sponsor pauses Sales from their link
        page.get_by_label("Reason").fill("quarter close")
        page.get_by_role("button", name="Pause the department").click()
        assert page.locator("h1").inner_text() == "Recorded"

        page.goto(base + "/")
        page.reload()
        assert "paused" in sales.inner_text()  # the kept board was recomputed
        board = page.locator("#phase-board").inner_text()
        assert "Human <script>alert(1)</script> Resources" in board
        page.screenshot(path=str(shots / "board.png"), full_page=True)
        browser.close()

    assert errors == []
    for name in ("action", "department", "board"):
        assert (shots / f"{name}.png").stat().st_size > 10_000
    print(f"\nscreenshots: {shots}")
    keep = os.environ.get("PILOTSCALE_KEEP_SCREENSHOTS")
    if keep:
        shutil.copytree(shots, keep, dirs_exist_ok=True)
