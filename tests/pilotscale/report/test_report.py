"""The report for the ACME example after eight weeks: its data, its page, its summary."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.db import get_engine
from pilotscale.report.data import ReportData, build_report
from pilotscale.report.html import render_html
from pilotscale.report.markdown import render_markdown
from pilotscale.store.snapshot import load_view
from tests.pilotscale.report.acme import EXAMPLE, build


def _report(engine: Engine, plan_text: str | None = None) -> ReportData:
    as_of = build(engine, plan_text)
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        return build_report(session=session, view=view, now=as_of)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> ReportData:
    path = tmp_path_factory.mktemp("acme") / "store.db"
    return _report(get_engine(f"sqlite:///{path}"))


def test_the_phase_board_and_who_is_held(acme: ReportData) -> None:
    board = {d.name: (d.phase, d.status, d.held) for d in acme.departments}

    assert board == {
        "customer-service": ("operating", "active", False),
        "hr": ("operating", "active", False),
        "sales": ("piloting", "blocked", True),
        "operations": ("planned", "active", False),
        "training": ("planned", "active", False),
    }
    sales = acme.held[0]
    holding = {g.gate: g for g in sales.gates if g.outcome != "pass"}
    assert set(holding) == {"power-users-trained", "weekly-active-pilot", "guardrails"}
    assert holding["weekly-active-pilot"].owner == "AI Center of Excellence"
    assert sales.forecast is not None
    # Sales' usage is flat around 41 % (no date for the 50 % gate) and half its power users
    # completed their course in one go, weeks ago: neither moves at this trend.
    assert sales.forecast.sentence == (
        "not at the current trend: power-users-trained, weekly-active-pilot"
    )


def test_impact_funnel_and_budget(acme: ReportData) -> None:
    kpis = {k.kpi: k for k in acme.program_impact}
    funnel = {(f.department, f.segment): f.counts for f in acme.funnel}

    # tickets avoided: customer service 48+55+49+56+50+57+51, HR 8+12+...+32
    assert kpis["tickets_avoided"].actual == 366 + 140
    # week of 21 Dec: power 30/30/27/22 + casual 150/127/90/44
    assert funnel[("hr", "")] == (180, 157, 117, 66)
    assert funnel[("hr", "casual")] == (150, 127, 90, 44)
    assert acme.budget.annual_total == 363_945
    assert acme.curve is not None
    assert set(acme.curve.series) == {"Human Resources", "Sales"}
    assert acme.curve.series["Sales"][0][0] == date(2026, 11, 23)


def test_the_page_escapes_what_people_wrote(engine: Engine) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "title: Sales\n", "title: \"Sales <script>alert('x')</script> & $Co$\"\n"
    )
    page = render_html(_report(engine, text))

    assert "<script>" not in page
    assert "Sales &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; $Co$" in page
    # in the chart legend too (matplotlib's SVG writer escapes it, and '$' is not maths)
    assert re.search(
        r"<text[^>]*>Sales &lt;script&gt;alert\('x'\)&lt;/script&gt; &amp; \$Co\$", page
    )


def test_the_page_is_self_contained(acme: ReportData) -> None:
    page = render_html(acme)

    assert 'id="phase-board"' in page
    assert page.count("<svg") == 4  # adoption, KPIs, funnel, budget
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "<script" not in page


def test_the_markdown_summary(acme: ReportData) -> None:
    text = render_markdown(acme)

    assert text.startswith("# ACME AI Assistant: rollout summary\n")
    assert "| Sales | ✓ | ✓ | **blocked**, gates ✗ fail |  |  |" in text
    assert (
        "- **Sales** (blocked, piloting): not at the current trend: power\\-users\\-trained, "
        "weekly\\-active\\-pilot\n"
    ) in text
    assert "| Tickets avoided | 506 tickets | 1,500 tickets | 34% |" in text


# Internal references to the articles the guidance came from: users never saw them, so
# nothing a user reads may name them (docs/sources.md says where the guidance comes from).
SEED = re.compile(r"seed", re.IGNORECASE)
INTERNAL = re.compile(r"\bseeds?\b\s*\d|\bseeds\b", re.IGNORECASE)
TEMPLATE_DIRS = (
    "pilotscale/report/templates",
    "pilotscale/web/templates",
    "notifications/templates",
)


def test_no_seed_wording_in_what_users_read(acme: ReportData) -> None:
    from pilotscale.cli.commands.plan_cmds import plan_json_schema
    from pilotscale.notifications.catalog import EVENTS, PARTS, SUBJECT, template_name
    from pilotscale.notifications.render import get_renderer
    from pilotscale.notifications.samples import SAMPLES, without_links

    rendered = {"report.html": render_html(acme), "summary.md": render_markdown(acme)}
    renderer = get_renderer()
    for event in EVENTS:
        for i, context in enumerate((SAMPLES[event], without_links(event, operator=True))):
            for part in PARTS:
                rendered[f"{event}/{part}/{i}"] = (
                    renderer.subject(event, context)
                    if part == SUBJECT
                    else renderer.render(template_name(event, part), context)
                )
    rendered["plan schema"] = json.dumps(plan_json_schema())
    root = EXAMPLE.parents[1]
    for folder in TEMPLATE_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                rendered[str(path.relative_to(root))] = path.read_text(encoding="utf-8")
    assert len(rendered) > 60
    assert {name for name, text in rendered.items() if SEED.search(text)} == set()

    # Prose may say "a seeded random order"; never an article's number.
    prose = [
        root / "README.md",
        *sorted((root / "docs").glob("*.md")),
        *sorted((root / "examples").glob("*")),
    ]
    assert {
        str(p.relative_to(root)) for p in prose if INTERNAL.search(p.read_text(encoding="utf-8"))
    } == set()
    assert "Where the guidance comes from" in (root / "docs" / "sources.md").read_text(
        encoding="utf-8"
    )


def test_the_test_finds_seed_wording() -> None:
    assert SEED.search("above the 3–5× jump Seed 001 expects")
    assert INTERNAL.search("seed 001's story")
    assert INTERNAL.search("the seeds say")
    assert not INTERNAL.search("kill points come from one seed, spread over a run")


def test_thin_data_is_explained_and_dates_follow_the_as_of(tmp_path: Path) -> None:
    """Three weeks after the last reading: the weekly active rate shows its latest value and
    date, the notes say what is missing and how to provide it. Reported as of an earlier
    day, no department reads as "since" a later one."""
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    as_of = build(engine)
    later = as_of + timedelta(weeks=3)
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        quiet = build_report(session=session, view=view, now=later)
        early = build_report(session=session, view=view, now=as_of - timedelta(weeks=5))

    rate = next(k for k in quiet.program_impact if k.kpi == "weekly_active_rate")
    assert rate.actual is None
    at, value = quiet.kpi_latest["weekly_active_rate"]
    assert as_of - timedelta(days=7) < at <= as_of
    assert 0 < value < 1
    page = render_html(quiet)
    assert f'{value:.0%}<br><span class="muted">latest, {at:%Y-%m-%d}</span>' in page
    assert 'id="kpi-missing"' in page
    assert "Weekly active rate" in page.split('id="kpi-missing"')[1].split("</p>")[0]
    assert "pilotscale metrics import FILE" in page
    assert "(latest," in render_markdown(quiet)

    day = (as_of - timedelta(weeks=5)).date()
    shown = [
        date.fromisoformat(d) for d in re.findall(r"since (\d{4}-\d{2}-\d{2})", render_html(early))
    ]
    assert shown
    assert max(shown) <= day
    assert f"entered after {day}" in render_html(early)
