"""The report as a reader sees it, in headless Chromium: on a desktop (1400 px) and a
phone (390 px), and printed to PDF on A4 and Letter. For the ACME example and for a
differently shaped plan (nine departments in three waves, no KPIs, no funnel): the
headline says what the facts say, nothing is wider than the page, no "seed" wording.

The screenshots, the PDFs and their pages as PNG (pdftoppm, when installed) are kept in
the artifacts folder: $PILOTSCALE_ARTIFACTS/report-in-chromium, else the test's tmp dir.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.db import get_engine
from pilotscale.report.data import ReportData, build_report
from pilotscale.report.headline import headline
from pilotscale.report.html import render_html
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine.helpers import day, into_piloting, observe
from tests.pilotscale.report import acme
from tests.plans import plan_dict

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
WIDTHS = {"desktop": 1400, "phone": 390}
# Anything wider than the viewport that is not inside a box that scrolls it (the wide
# tables scroll in their own box on a phone; the page itself never scrolls sideways).
OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && (r.right > width + 1 || r.left < -1) && !scrolls(el)) {
      wide.push(el.tagName + (el.id ? '#' + el.id : '') + ' ' + Math.round(r.right));
    }
  }
  return {page: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 10)};
}
"""


def _chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        message = "chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI is set: .ci/run installs it")
        pytest.skip(message)
    return found


def _artifacts(tmp_path: Path, name: str) -> Path:
    root = os.environ.get("PILOTSCALE_ARTIFACTS")
    folder = (Path(root) if root else tmp_path / "artifacts") / "report-in-chromium" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _acme(engine: Engine) -> datetime:
    return acme.build(engine)


def _nine_in_three_waves(engine: Engine) -> datetime:
    data = plan_dict(9, per_wave=3, default_reaches="piloting")
    into_piloting(engine, data, departments=("d001", "d002", "d003"))
    observe(engine, "d001", [0.3, 0.35, 0.4, 0.42], start=day(2))
    return day(4)


def _report(tmp_path: Path, build: Callable[[Engine], datetime]) -> ReportData:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    as_of = build(engine)
    with Session(engine, expire_on_commit=False) as session:
        return build_report(session=session, view=load_view(session=session), now=as_of)


PLANS = {
    "acme": (
        _acme,
        [
            "2 of 5 departments operating and 1 blocked (2 not started)",
            "most in the way: Power users completed the full course (failing, owner AI Center "
            "of Excellence), holding Sales.",
            "under the approved EUR 420,000",
        ],
        {"operating": "2", "in flight": "0", "held": "0", "blocked": "1"},
    ),
    "nine-in-three-waves": (
        _nine_in_three_waves,
        ["0 of 9 departments operating and 3 held (6 not started); most in the way:"],
        {"operating": "0", "in flight": "0", "held": "3", "blocked": "0"},
    ),
}


@pytest.mark.parametrize("plan", PLANS)
def test_the_report_in_a_real_browser(plan: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    build, says, tiles = PLANS[plan]
    executable = _chromium()
    data = _report(tmp_path, build)
    page_file = tmp_path / "report.html"
    html = render_html(data)
    page_file.write_text(html, encoding="utf-8")
    out = _artifacts(tmp_path, plan)
    expected = headline(data).text
    for part in says:
        assert part in expected, expected
    assert not re.search("seed", html, re.IGNORECASE)

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            for label, width in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(page_file.as_uri())
                page.wait_for_load_state()
                page.screenshot(path=str(out / f"{label}.png"), full_page=True)
                assert page.locator("#headline").inner_text() == expected
                shown = {
                    t.get_attribute("data-state"): t.locator("b").inner_text()
                    for t in page.locator("#summary .tile").all()
                }
                assert shown == tiles
                text = page.locator("body").inner_text()
                assert not re.search("seed", text, re.IGNORECASE)
                measured = page.evaluate(OVERFLOW)
                assert measured["wide"] == [], (label, measured)
                assert measured["page"] <= measured["width"], (label, measured)
                # Each chart has its text alternative.
                for svg in page.locator("figure.chart svg").all():
                    assert svg.get_attribute("role") == "img"
                    assert len(svg.get_attribute("aria-label") or "") > 20
            # Printed: the print stylesheet at an A4 page's printable width (186 mm).
            page.emulate_media(media="print")
            page.set_viewport_size({"width": 703, "height": 1000})
            page.goto(page_file.as_uri())
            measured = page.evaluate(OVERFLOW)
            assert measured["wide"] == [], ("print", measured)
            for paper in ("A4", "Letter"):
                page.pdf(path=str(out / f"report-{paper}.pdf"), format=paper, print_background=True)
        finally:
            browser.close()
    assert errors == []

    for paper in ("A4", "Letter"):
        pdf = out / f"report-{paper}.pdf"
        assert pdf.read_bytes().startswith(b"%PDF")
        if shutil.which("pdftoppm"):
            subprocess.run(
                ["pdftoppm", "-png", "-r", "60", str(pdf), str(out / f"page-{paper}")],
                check=True,
                timeout=120,
            )
            pages = sorted(out.glob(f"page-{paper}-*.png"))
            assert pages, f"no page of the {paper} PDF was rendered"
            text = subprocess.run(
                ["pdftotext", "-layout", str(pdf), "-"],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
            # The headline is on the first page, whole: nothing cut at the margin.
            first = " ".join(text.split("\f", 1)[0].split())
            assert " ".join(expected.split()[:6]) in first
            assert not re.search("seed", text, re.IGNORECASE)
