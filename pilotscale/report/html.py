"""The report as one self-contained HTML page: inline CSS and SVG, no script, no network.

Jinja2 autoescaping escapes every string from the plan or the data (department
titles, gate reasons, people's names); only the SVG the chart module produced is
inserted as markup.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pilotscale.core.states import Outcome
from pilotscale.core.vocabulary import gate_state
from pilotscale.memory import release_free_memory
from pilotscale.metrics.budget import money
from pilotscale.metrics.funnel import STAGES, FunnelRow
from pilotscale.metrics.kpis import KpiActual
from pilotscale.report import charts
from pilotscale.report.data import ReportData
from pilotscale.report.headline import headline, states

TEMPLATES = Path(__file__).resolve().parent / "templates"
_MARKS = {str(Outcome.passed): "✓", str(Outcome.failed): "✗", str(Outcome.pending): "…"}
_CLASSES = {
    str(Outcome.passed): "pass",
    str(Outcome.failed): "fail",
    str(Outcome.pending): "pending",
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(data: ReportData) -> str:
    return "".join(html_parts(data))


def html_parts(data: ReportData) -> Iterator[str]:
    """The page in pieces, to write as they come: at 2,000 departments it is 18 MB, and
    held whole (and its pieces, while joined) it set the report's peak memory."""
    zone = ZoneInfo(data.timezone)
    lead = headline(data)
    words = states(data)
    as_of_day = data.as_of.astimezone(zone).date()
    warnings = []
    if (warning := data.budget.warning()) is not None:
        warnings.append("Budget: " + warning)
    warnings += [
        f"Metric '{name}': its source failed ({why}); its gates are pending until it is read."
        for name, why in sorted(data.metric_errors.items())
    ]
    curve = data.curve
    adoption_svg = (
        charts.adoption_chart(
            curve.series,
            curve.thresholds,
            title=curve.title,
            percent=curve.unit in ("fraction", "ratio") or curve.metric.endswith("_rate"),
        )
        if curve is not None and curve.series
        else ""
    )
    # What the chart draws: a line per department, or above charts.MAX_LINES a summary.
    drawn = sum(1 for points in curve.series.values() if points) if curve is not None else 0
    adoption_shows = (
        f"the average of {drawn:,} departments, the band their middle 80 % spans and the "
        f"{charts.LOWEST_SHOWN} lowest now"
        if curve is not None and len(curve.series) > charts.MAX_LINES
        else "per department"
    )
    funnel_rows = [r for r in data.funnel if not r.empty]
    titles = {d.name: d.title for d in data.departments}
    # A chart of nothing but "no data" reads as a broken page: the note says what is missing.
    kpi_svg = (
        charts.kpi_chart(data.program_impact)
        if any(k.target and k.actual is not None for k in data.program_impact)
        else ""
    )
    quiet_kpis = [k.title for k in data.program_impact if k.actual is None]
    funnel_svg = charts.funnel_chart(funnel_rows, titles) if funnel_rows else ""
    budget_svg = charts.budget_chart(data.budget)
    # Each chart's text alternative: what it shows, in words and figures.
    adoption_svg = charts.labelled(adoption_svg, _adoption_alt(data, zone))
    kpi_svg = charts.labelled(kpi_svg, _kpi_alt(data))
    funnel_svg = charts.labelled(funnel_svg, _funnel_alt(funnel_rows, titles))
    budget_svg = charts.labelled(budget_svg, _budget_alt(data))
    # The figures are gone; their memory goes back before the page is written.
    gc.collect()
    release_free_memory()
    template = _environment().get_template("report.html.j2")
    yield from template.generate(
        r=data,
        as_of_local=data.as_of.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        headline=lead,
        quiet_kpis=quiet_kpis,
        words=words,
        as_of_day=as_of_day,
        warnings=warnings,
        jump_note=data.budget.jump_note(),
        adoption_svg=adoption_svg,
        adoption_shows=adoption_shows,
        kpi_svg=kpi_svg,
        funnel_svg=funnel_svg,
        budget_svg=budget_svg,
        funnel_rows=funnel_rows,
        stages=[label for _, label in STAGES],
        gate_word=lambda g: gate_state(outcome=g.outcome, stuck=g.stuck_checks > 0),
        outcome_mark=lambda o: _MARKS.get(o, ""),
        outcome_class=lambda o: _CLASSES.get(o, ""),
        kpi=_kpi_value,
        pct=_pct,
        num=_num,
        ratio=lambda v: "—" if v is None else f"{v:.2f}",
        money=lambda v: money(v, data.currency),
        date=lambda moment: _date(moment, zone),
    )


def _adoption_alt(data: ReportData, zone: ZoneInfo) -> str:
    curve = data.curve
    if curve is None:
        return ""
    shown = sorted((n, p) for n, p in curve.series.items() if p)
    if len(shown) > charts.MAX_LINES:
        lows = sorted(shown, key=lambda t: (t[1][-1][1], t[0]))[: charts.LOWEST_SHOWN]
        parts = [f"{len(shown):,} departments; the lowest now"] + [
            f"{n} {p[-1][1]:.0%}" for n, p in lows
        ]
    else:
        parts = [f"{n} {p[-1][1]:.0%} on {p[-1][0]:%Y-%m-%d}" for n, p in shown]
    gates = [f"gate {title} at {value:.0%}" for title, value in curve.thresholds]
    return f"{curve.title}, latest daily average per department: " + "; ".join(parts + gates)


def _kpi_alt(data: ReportData) -> str:
    return "Program KPIs against their targets: " + "; ".join(
        f"{k.title} {_kpi_value(k, k.actual)} of {_kpi_value(k, k.target)} ({_pct(k.progress)})"
        for k in data.program_impact
        if k.target
    )


def _funnel_alt(rows: list[FunnelRow], titles: dict[str, str]) -> str:
    labels = [label for _, label in STAGES]
    return "Adoption funnel, people at each stage: " + "; ".join(
        f"{titles.get(r.department, r.department) or 'Program'}"
        + (f" ({r.segment})" if r.segment else "")
        + ": "
        + ", ".join(f"{label} {_num(c)}" for label, c in zip(labels, r.counts, strict=False))
        for r in rows
        if r.segment == "" and r.department
    )


def _budget_alt(data: ReportData) -> str:
    b = data.budget
    return (
        f"Annual cost of the full rollout, {money(b.annual_total, b.currency)}: licences "
        f"{money(b.licences, b.currency)}, usage {money(b.usage, b.currency)}, support "
        f"{money(b.support, b.currency)}, training {money(b.training, b.currency)}; approved "
        f"scale budget {money(b.approved, b.currency)}"
    )


def _kpi_value(k: KpiActual, value: float | None) -> str:
    if value is None:
        return "—"
    if k.rate:
        return f"{value:.1f} %" if k.percent else f"{value:.0%}"
    unit = f" {k.unit}" if k.unit else ""
    return f"{value:,.0f}{unit}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _date(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d")
