"""The ACME report opened in headless Chromium, as a sponsor opens it: no console errors,
a phase board, real charts, and a screenshot that shows them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session

from pilotscale.db import get_engine
from pilotscale.report.data import build_report
from pilotscale.report.html import render_html
from pilotscale.store.snapshot import load_view
from tests.pilotscale.report.acme import build

pytestmark = pytest.mark.slow

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def _chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI is set: .ci/run installs it")
        pytest.skip(message)
    return found


def _open(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run(
        [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _console(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


def test_the_console_check_catches_errors(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<p>x</p><script>missingFunction()</script>", encoding="utf-8")

    result = _open(page, tmp_path, "--dump-dom")

    assert any("missingFunction is not defined" in line for line in _console(result))


def test_the_acme_report_in_a_browser(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    as_of = build(engine)
    with Session(engine, expire_on_commit=False) as session:
        data = build_report(session=session, view=load_view(session=session), now=as_of)
    page = tmp_path / "report.html"
    page.write_text(render_html(data), encoding="utf-8")
    shot = tmp_path / "report.png"

    dom = _open(page, tmp_path, "--dump-dom")
    picture = _open(page, tmp_path, "--window-size=1280,2400", f"--screenshot={shot}")

    assert dom.returncode == 0, dom.stderr[-2000:]
    assert _console(dom) == []
    assert _console(picture) == []
    html = dom.stdout
    assert '<table id="phase-board">' in html
    assert html.count('<tr data-department="') == 5
    assert '<figure class="chart" id="adoption-chart"><svg' in html
    for chart in ("kpi-chart", "funnel-chart", "budget-chart"):
        assert f'id="{chart}"' in html
    assert "not at the current trend" in html  # Sales' forecast
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        # A real page: the board's tints, the lines' colours, text; not a blank sheet.
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
        assert len(colours) > 500
    keep = os.environ.get("PILOTSCALE_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
