"""`pilotscale report`: the rollout as one HTML page for sponsors and executives."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import typer

from pilotscale.cli.app import app
from pilotscale.cli.errors import CliError
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of, program_view
from pilotscale.cli.text import plain
from pilotscale.memory import release_free_memory

HELD_NAMED = 10  # held departments named in the one line `report` prints


@app.command()
def report(
    out: Path = typer.Option(Path("report.html"), "--out", help="Where to write the page."),
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    """Write the rollout report: phase board, every gate with its owner, adoption curves, KPIs
    and impact, the adoption funnel, the budget at full scale, and when each held department
    will pass at its current trend. One self-contained HTML file: open it offline, print it.

    Example:

      pilotscale report --out report.html && xdg-open report.html
    """
    from pilotscale.report.data import build_report
    from pilotscale.report.html import html_parts

    now = parse_as_of(as_of, program=program)
    if not out.parent.is_dir():
        raise CliError(f"--out {out}: folder {out.parent} does not exist")
    # Only gate owners are named: a plan of 200,000 people need not be read whole.
    with program_view(program, owners_only=True) as (session, view):
        data = build_report(session=session, view=view, now=now)
    # The peak of a large report is its largest chart drawn on top of whatever is still
    # held: what reading the store left behind goes back to the system first. No full
    # collection here (the page's own, after its charts, frees their cycles): at 2,000
    # departments it took 0.2 s and lowered no peak (204 MB with it and without).
    release_free_memory()
    # Written beside the target and renamed: a reader never sees half a report.
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(html_parts(data))
        size = os.path.getsize(tmp)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    held_names = [d.name for d in data.held]
    # One line, whatever the size: at 2,000 departments the whole list ran to 9,000
    # characters; the page has them all.
    held = ", ".join(held_names[:HELD_NAMED]) or "none"
    if len(held_names) > HELD_NAMED:
        held += f" and {len(held_names) - HELD_NAMED:,} more"
    print(
        plain(
            f"wrote {out} ({size // 1024} KB): {len(data.departments)} departments, "
            f"held: {held}; full rollout {data.budget.annual_total:,.0f} {data.currency}/year "
            f"vs approved {data.budget.approved:,.0f}"
        )
    )
