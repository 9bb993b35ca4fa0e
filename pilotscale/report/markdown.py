"""The report's summary as Markdown, for the readiness check's Prefect artifact.

The same figures as the HTML page (both start from ReportData), in the tables and
short lines a Prefect UI shows well. Text from the plan or the data is escaped so a
'|' or a '*' in a department title cannot break a table or the page.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from pilotscale.metrics.budget import money
from pilotscale.metrics.kpis import KpiActual
from pilotscale.report.data import ReportData
from pilotscale.report.headline import headline, states

# The people's side the summary shows (`store.people_queries`): the held departments'
# open barriers and every lesson learned. Who decided or attested is the page's.
PEOPLE_SHOWN = ("barriers", "notes")

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")
_MARKS = {"pass": "✓", "fail": "✗", "pending": "…"}


def escape(text: str) -> str:
    """Markdown-inert text on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(data: ReportData) -> str:
    zone = ZoneInfo(data.timezone)
    lead = headline(data)
    words = states(data)
    lines = [
        f"# {escape(data.title)}: rollout summary",
        "",
        f"As of {data.as_of.astimezone(zone):%Y-%m-%d %H:%M} ({escape(data.timezone)}).",
        "",
        escape(lead.text),
        "",
        _row([escape(t.label) for t in lead.tiles]),
        _row(["---:"] * len(lead.tiles)),
        _row([str(t.value) for t in lead.tiles]),
        "",
    ]
    if (warning := data.budget.warning()) is not None:
        lines += [f"> **Budget:** {escape(warning)}", ""]
    for name, why in sorted(data.metric_errors.items()):
        lines += [
            f"> **Metric {escape(name)}:** source failed ({escape(why)}); its gates pend.",
            "",
        ]

    lines += [
        "## Phase board",
        "",
        _row(["Department", *[n for n, _ in data.phases]]),
        _row(["---"] * (len(data.phases) + 1)),
    ]
    for d in data.departments:
        cells = []
        for i, _phase in enumerate(data.phases):
            if d.phase_index is not None and i < d.phase_index:
                cells.append("✓")
            elif i == d.phase_index:
                state = str(words[d.name])
                gates = f", gates {_MARKS.get(d.overall, '')} {d.overall}" if d.overall else ""
                cells.append(f"**{escape(state)}**{gates}")
            else:
                cells.append("")
        lines.append(_row([escape(d.title), *cells]))

    lines += ["", "## Held and blocked departments", ""]
    if not data.held:
        lines.append("None.")
    for d in data.held:
        sentence = d.forecast.sentence if d.forecast else ""
        lines.append(
            f"- **{escape(d.title)}** ({escape(str(words[d.name]))}, {escape(d.phase)}): "
            f"{escape(sentence)}"
        )
        for g in d.gates:
            if g.outcome != "pass":
                lines.append(
                    f"  - {_MARKS.get(g.outcome, '')} {escape(g.title)}: {escape(g.reason)} "
                    f"(owner: {escape(g.owner)})"
                )
        for barrier in d.barriers:
            lines.append(f"  - barrier: {escape(barrier)}")

    noted = [d for d in data.departments if d.notes]
    if noted:
        lines += ["", "## Lessons learned", ""]
        for d in noted:
            lines.append(f"- **{escape(d.title)}**")
            lines += [f"  - {escape(note)}" for note in d.notes]
    # Never silent: what a lead set aside, and who is held by the calendar.
    set_aside = [d for d in data.departments if d.waived or d.blackout]
    if set_aside:
        lines += ["", "## Waived gates and blackouts", ""]
    for d in set_aside:
        if d.blackout:
            lines.append(f"- **{escape(d.title)}**: {escape(d.blackout)}")
        for g in d.waived:
            # The reason says who waived it, until when, why, and what it evaluates as.
            lines.append(f"- **{escape(d.title)}**: {escape(g.title)}: {escape(g.reason)}")

    lines += [
        "",
        "## Impact",
        "",
        _row(["KPI", "Actual", "Target", "Progress"]),
        _row(["---", "---:", "---:", "---:"]),
    ]
    for k in data.program_impact:
        actual = _kpi(k, k.actual)
        if k.actual is None and k.kpi in data.kpi_latest:
            at, value = data.kpi_latest[k.kpi]
            actual = f"{_kpi(k, value)} \\(latest, {at.astimezone(zone):%Y-%m-%d}\\)"
        lines.append(_row([escape(k.title), actual, _kpi(k, k.target), _pct(k.progress)]))
    if any(k.actual is None for k in data.program_impact):
        lines += [
            "",
            "KPIs without a reading in the last 7 days show their latest one; readings come "
            "from `pilotscale metrics import FILE` or a metric source in the plan\\.",
        ]

    b = data.budget
    lines += [
        "",
        "## Budget at full scale",
        "",
        f"Projected {escape(money(b.annual_total, b.currency))} a year for {b.users:,} users, "
        f"approved {escape(money(b.approved, b.currency))}"
        + (f" (ratio {b.ratio:.2f})." if b.ratio is not None else "."),
    ]
    if (note := b.jump_note()) is not None:
        lines.append(f"{escape(note[0].upper() + note[1:])}.")
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _kpi(k: KpiActual, value: float | None) -> str:
    if value is None:
        return "—"
    if k.rate:
        return f"{value:.1f} %" if k.percent else f"{value:.0%}"
    return f"{value:,.0f} {escape(k.unit)}".strip()


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
