"""`python -m bench.phases URL status|report`: the CPU time of each phase of a read command.

    python -m bench.phases sqlite:////tmp/perf-base/sqlite/pristine-2000.db status

Runs what `pilotscale status` or `pilotscale report` runs, in this process, as of the
benchmark's moment, and prints the CPU time (`time.process_time`, which other jobs on a
shared machine move far less than the wall time) of importing the CLI, reading the view,
the gate verdicts (and inside them the metric aggregate), and for the report the forecasts,
the adoption curve, the charts and the page; for `status`, printing its summary (to
/dev/null). `--wall` prints wall times instead (PostgreSQL's own work is not this
process's CPU).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phases", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("command", choices=["status", "report"])
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    clock = time.perf_counter if args.wall else time.process_time
    started = clock()
    from sqlmodel import Session

    import pilotscale.cli.main  # noqa: F401  (what the command imports)
    from pilotscale.cli.commands import view_cmds
    from pilotscale.db import get_engine
    from pilotscale.report import charts, html
    from pilotscale.report import data as report_data
    from pilotscale.store import fact_queries
    from pilotscale.store.snapshot import load_view

    spent: dict[str, float] = {"import the CLI": clock() - started}
    from bench.generate import NOW  # after the CLI: it imports much of pilotscale itself

    def timed(module: Any, name: str, label: str) -> None:
        inner: Callable[..., Any] = getattr(module, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            begun = clock()
            try:
                return inner(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + clock() - begun

        setattr(module, name, wrapper)

    timed(fact_queries, "_read", "  metric aggregate")
    timed(report_data, "read_verdicts", "  gate verdicts")
    timed(report_data, "_forecasts", "  forecasts")
    timed(report_data, "_curve", "  adoption curve")
    timed(charts, "adoption_chart", "  adoption chart")
    with Session(get_engine(args.url)) as session:
        begun = clock()
        view = load_view(session=session, owners_only=True)
        spent["view (owners' plan, departments)"] = clock() - begun
        begun = clock()
        if args.command == "status":
            verdicts = view_cmds.read_verdicts(session=session, view=view, now=NOW)
            spent["gate verdicts"] = clock() - begun
        else:
            found = report_data.build_report(session=session, view=view, now=NOW)
            spent["report data"] = clock() - begun
    begun = clock()
    if args.command == "status":
        in_flight = sum(view.machine.is_in_flight(view_cmds.state_of(d)) for d in view.departments)
        with open("/dev/null", "w") as sink, redirect_stdout(sink):
            view_cmds._print_summary(view, verdicts, NOW, in_flight)
        spent["print the summary"] = clock() - begun
    else:
        page = io.StringIO()
        page.writelines(html.html_parts(found))
        spent["charts and page"] = clock() - begun
    spent["total"] = clock() - started
    unit = "wall" if args.wall else "CPU"
    for label, seconds in spent.items():
        print(f"{seconds:7.2f} s {unit}  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
