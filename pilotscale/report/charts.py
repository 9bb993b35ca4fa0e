"""The report's charts: matplotlib figures rendered to inline SVG.

Readable in print: text stays text (selectable, sharp at any zoom), lines differ by
marker and dash as well as by colour (a colour-blind-safe palette), and threshold
lines are labelled. Matplotlib's object API is used without pyplot, so nothing here
touches global figure state and charts can be drawn from any thread.

User-supplied strings (department titles, KPI names) are plain text to matplotlib:
maths parsing is off, and the SVG writer escapes them.
"""

from __future__ import annotations

import html
import io
import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import matplotlib
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from pilotscale.metrics.budget import BudgetProjection
from pilotscale.metrics.funnel import STAGES, FunnelRow
from pilotscale.metrics.kpis import KpiActual

# Okabe-Ito: distinguishable with every common kind of colour blindness.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
DASHES = ("-", "--", "-.", ":", "-", "--", "-.")
STYLE = {
    "svg.fonttype": "none",  # text as <text>, not paths
    "svg.hashsalt": "pilotscale",  # stable ids: the same data gives the same page
    "text.parse_math": False,  # a '$' in a department title is a dollar sign
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
}


# Up to this many departments the adoption chart draws a line each; above, the average of
# all of them, the band their middle 80 % spans, and the LOWEST_SHOWN lowest by their last
# value. 2,000 lines and their legend took 10-15 s and 95 MB to draw, and were unreadable.
MAX_LINES = 12
LOWEST_SHOWN = 5


@dataclass(frozen=True)
class Summary:
    """Many departments' daily values as the chart draws them."""

    departments: int
    average: list[tuple[date, float]]  # each day: the mean of the departments with a value
    band: list[tuple[date, float, float]]  # each day: its 10th and 90th percentiles
    lowest: dict[str, list[tuple[date, float]]]  # the lowest by their last value


def summarise(series: dict[str, list[tuple[date, float]]], lowest: int = LOWEST_SHOWN) -> Summary:
    """The average, the middle 80 % and the `lowest` departments (by their last value, then
    name) of many departments' daily values."""
    by_day: dict[date, list[float]] = defaultdict(list)
    for points in series.values():
        for day, value in points:
            by_day[day].append(value)
    average, band = [], []
    for day in sorted(by_day):
        values = sorted(by_day[day])
        average.append((day, math.fsum(values) / len(values)))
        band.append((day, _percentile(values, 0.1), _percentile(values, 0.9)))
    drawn = [(points[-1][1], name) for name, points in series.items() if points]
    chosen = [name for _, name in sorted(drawn)[:lowest]]
    return Summary(
        departments=sum(1 for points in series.values() if points),
        average=average,
        band=band,
        lowest={name: series[name] for name in chosen},
    )


def _percentile(ordered: list[float], share: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default), of sorted values."""
    at = share * (len(ordered) - 1)
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def adoption_chart(
    series: dict[str, list[tuple[date, float]]],
    thresholds: Sequence[tuple[str, float]],
    *,
    title: str,
    percent: bool,
) -> str:
    """A line per department, up to MAX_LINES of them; above, `summarise`d, and the title
    says what is drawn."""
    summary = summarise(series) if len(series) > MAX_LINES else None
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(7.5, 4.2))
        ax = fig.add_subplot()
        if summary is None:
            lines = series
        else:
            lines = summary.lowest
            title = (
                f"{title}: average of {summary.departments:,} departments, the band their "
                f"middle 80 % spans, and the {len(summary.lowest)} lowest now"
            )
            if summary.band:
                days, low, high = zip(*summary.band, strict=True)
                ax.fill_between(
                    days,
                    low,
                    high,
                    color=PALETTE[5],
                    alpha=0.25,
                    linewidth=0,
                    label="middle 80 % of departments",
                )
            if summary.average:
                days, values = zip(*summary.average, strict=True)
                ax.plot(
                    days,
                    values,
                    label=f"average of {summary.departments:,} departments",
                    color="#000000",
                    linewidth=2.2,
                )
        for i, (name, points) in enumerate(sorted(lines.items())):
            if not points:
                continue
            days, values = zip(*points, strict=True)
            ax.plot(
                days,
                values,
                label=name,
                color=PALETTE[i % len(PALETTE)],
                linestyle=DASHES[i % len(DASHES)],
                marker=MARKERS[i % len(MARKERS)],
                markersize=3,
                linewidth=1.6,
            )
        gate_dashes = ((0, (4, 3)), (0, (1, 2)), (0, (6, 2, 1, 2)), (0, (2, 4)))
        for j, (label, value) in enumerate(thresholds):
            ax.axhline(
                value,
                color="#444444",
                linewidth=0.9,
                linestyle=gate_dashes[j % len(gate_dashes)],
                label=f"gate: {label} ({_fmt(value, percent)})",
            )
        if percent:
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
            ax.set_ylim(
                0,
                _rate_top(
                    [*_values(lines), *_summary_values(summary), *(v for _, v in thresholds)]
                ),
            )
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.set_title(title, loc="left", fontsize=10, wrap=True)
        if series:
            # Below the plot, clear of the date labels: never over a line.
            ax.legend(
                loc="upper left", bbox_to_anchor=(0.0, -0.14), ncol=2, fontsize=7.5, frameon=False
            )
        return _svg(fig)


def kpi_chart(figures: Sequence[KpiActual]) -> str:
    """Each program KPI as a share of its target (100 % = met)."""
    shown = [f for f in figures if f.target]
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(7.5, 0.5 + 0.45 * max(1, len(shown))))
        ax = fig.add_subplot()
        labels = [f.title for f in shown]
        shares = [min(f.progress or 0.0, 1.5) for f in shown]
        colors = [PALETTE[2] if f.met else PALETTE[0] for f in shown]
        bars = ax.barh(labels, shares, color=colors, height=0.55)
        for bar, f in zip(bars, shown, strict=True):
            actual = "no data" if f.actual is None else _fmt(f.actual, f.rate)
            ax.annotate(
                f"{actual} of {_fmt(f.target or 0, f.rate)} {'' if f.rate else f.unit}".strip(),
                xy=(bar.get_width(), bar.get_y() + bar.get_height() / 2),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.axvline(1.0, color="#333333", linewidth=1)
        ax.annotate(
            "target (100 %)",
            xy=(1.0, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 2),
            textcoords="offset points",
            fontsize=8,
            va="bottom",
        )
        ax.invert_yaxis()
        # Room for the target line and the labels right of the bars, and no more: an axis
        # to 160 % beside bars at 80 % made every bar look short.
        ax.set_xlim(0, max(1.0, *shares) * 1.3)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlabel("share of target")
        ax.grid(axis="y", visible=False)
        return _svg(fig)


def budget_chart(projection: BudgetProjection) -> str:
    """Full-rollout annual cost by component, stacked, against the approved budget."""
    parts = [
        ("Licences", projection.licences),
        ("Usage", projection.usage),
        ("Support", projection.support),
        ("Training (one-off)", projection.training),
    ]
    hatches = ("", "//", "..", "xx")
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(7.5, 2.4))
        ax = fig.add_subplot()
        left = 0.0
        for i, (label, amount) in enumerate(parts):
            ax.barh(
                ["Full rollout"],
                [amount],
                left=left,
                color=PALETTE[i],
                hatch=hatches[i],
                edgecolor="white",
                label=f"{label}: {amount:,.0f}",
                height=0.5,
            )
            left += amount
        approved = f"approved scale budget {projection.currency} {projection.approved:,.0f}"
        ax.axvline(projection.approved, color="#000000", linewidth=1.4, label=approved)
        ax.annotate(
            approved,
            xy=(projection.approved, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, 2),
            textcoords="offset points",
            ha="right" if projection.approved > left / 2 else "left",
            va="bottom",
            fontsize=8,
        )
        ax.set_xlim(0, max(left, projection.approved) * 1.1 or 1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.set_xlabel(f"{projection.currency} per year")
        # Above the plot: below it, it covered the axis label.
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.12), ncol=3, fontsize=7.5, frameon=False)
        ax.grid(axis="y", visible=False)
        return _svg(fig)


def funnel_chart(rows: Sequence[FunnelRow], labels: dict[str, str]) -> str:
    """Each department's funnel (all segments) as grouped bars, share of licensed."""
    shown = [r for r in rows if r.segment == "" and r.department and r.counts[0]]
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(7.5, 0.9 + 0.75 * max(1, len(shown))))
        ax = fig.add_subplot()
        height = 0.8 / len(STAGES)
        for s, (_metric, stage) in enumerate(STAGES):
            ys = [i + s * height for i in range(len(shown))]
            values = [r.of_licensed[s] or 0.0 for r in shown]
            ax.barh(ys, values, height=height * 0.9, color=PALETTE[s], label=stage)
            for y, v, r in zip(ys, values, shown, strict=True):
                count = r.counts[s]
                if count is not None:
                    ax.annotate(
                        f"{count:,.0f}",
                        xy=(v, y),
                        xytext=(3, 0),
                        textcoords="offset points",
                        va="center",
                        fontsize=7,
                    )
        ax.set_yticks([i + 0.4 - height / 2 for i in range(len(shown))])
        ax.set_yticklabels([labels.get(r.department, r.department) for r in shown])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.15)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
        ax.set_xlabel("share of licensed users")
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=7.5, ncol=4, frameon=False)
        ax.grid(axis="y", visible=False)
        return _svg(fig)


def _values(lines: dict[str, list[tuple[date, float]]]) -> list[float]:
    return [v for points in lines.values() for _, v in points]


def _summary_values(summary: Summary | None) -> list[float]:
    return [] if summary is None else [high for _, _, high in summary.band]


def _rate_top(values: Sequence[float]) -> float:
    """The top of a 0-1 axis: the data's highest value with some room, in whole tenths, at
    most 100 %."""
    highest = max(values, default=1.0)
    return min(1.0, max(0.1, math.ceil(highest * 1.1 * 10) / 10))


def labelled(svg: str, text: str) -> str:
    """The chart with its text alternative: `role="img"` and an escaped `aria-label` on the
    <svg>, and a <title> inside it (the tooltip, and what a screen reader reads)."""
    if not svg:
        return svg
    start = svg.find("<svg")
    end = svg.find(">", start)
    if start < 0 or end < 0:
        return svg
    said = html.escape(text, quote=True)
    return (
        svg[:end] + f' role="img" aria-label="{said}">' + f"<title>{said}</title>" + svg[end + 1 :]
    )


def _style() -> Any:
    # matplotlib types rc keys as a Literal of every known name; ours are all known ones.
    return STYLE


def _fmt(value: float, percent: bool) -> str:
    return f"{value:.0%}" if percent else f"{value:,.0f}"


_SIZE = re.compile(r'<svg([^>]*?) width="[^"]+" height="[^"]+"')


def _svg(fig: Figure) -> str:
    """The figure as an <svg> element to inline (no XML prologue, no fixed pixel size)."""
    fig.tight_layout()
    # tight_layout leaves a placeholder layout engine behind, and savefig then draws the
    # whole figure once more only to lay it out again: at 2,000 departments (a line and
    # a legend entry each) that draw cost as much as the SVG itself. The layout is done.
    fig.set_layout_engine(None)
    # Written as bytes: through a StringIO the 12 MB chart of 2,000 departments took 18 MB
    # more at its peak (measured).
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    fig.clear()  # its artists hold more memory than the SVG they became
    svg = buffer.getvalue().decode("utf-8")
    buffer.close()
    # Only the opening tag is rewritten: a chart of 2,000 lines is 12 MB of SVG, and each
    # rewrite of the whole text was another copy of it.
    start = svg.find("<svg")
    if start < 0:
        return svg
    end = svg.find(">", start) + 1
    # Scale with the page (and the printed sheet) instead of a fixed size in points.
    opening = _SIZE.sub(r'<svg\1 width="100%"', svg[start:end], count=1)
    return opening + svg[end:]
