"""Numbers have a domain in the store too, on SQLite and PostgreSQL.

- Rows written before ranges were checked (1e308, a negative count, a rate of 17.5) are
  left out of every figure and named in the gate's reason: they neither break `status`,
  the check and the report (PostgreSQL: "value out of range: overflow") nor pass a gate
  (SQLite: 25 rows of 1e308 summed to inf, which "meets >= 0.3").
- Rows at the very ends of the ranges, many of them, give finite figures everywhere:
  every aggregate, the readiness check, the report, the digest and `status --json`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.db import get_engine
from pilotscale.engine.check import apply_check, prepare_check
from pilotscale.engine.verdicts import read_verdicts
from pilotscale.metrics.ingest import Catalog, validate
from pilotscale.metrics.reader import Record
from pilotscale.models import Department, MetricObservation
from pilotscale.plan.domains import domain_of, domains
from pilotscale.report.data import ReportData, build_report
from pilotscale.report.html import render_html
from pilotscale.report.markdown import render_markdown
from pilotscale.store import impact
from pilotscale.store.imports import ImportWriter
from pilotscale.store.insert import insert_ignore
from pilotscale.store.snapshot import load_view
from tests.pilotscale.metrics.helpers import NOW, PLAN, piloting, run

AS_OF = NOW + timedelta(days=1)
NOT_A_NUMBER = re.compile(r"\b(nan|inf|infinity)\b", re.IGNORECASE)

# Gates of every aggregate, on a rate and on an amount.
GATES = """\
  - {name: active-average, kind: metric, title: Average use, owner: leo,
     metric: weekly_active_rate, aggregate: avg, window: 7d, threshold: 0.3}
  - {name: hours-total, kind: metric, title: Hours saved, owner: leo,
     metric: time_saved_hours, aggregate: sum, window: 28d, threshold: 10}
  - {name: hours-least, kind: metric, title: Least hours, owner: leo,
     metric: time_saved_hours, aggregate: min, window: 28d, threshold: 1}
  - {name: hours-most, kind: metric, title: Most hours, owner: leo,
     metric: time_saved_hours, aggregate: max, window: 28d, op: "<", threshold: 1e12}
  - {name: hours-count, kind: metric, title: Hours reports, owner: leo,
     metric: time_saved_hours, aggregate: count, window: 28d, threshold: 1}
  - {name: balance-average, kind: metric, title: Balance, owner: leo,
     metric: balance, aggregate: avg, window: 7d, op: "<", threshold: 0}
"""


def _plan(metrics: str = "") -> str:
    text = PLAN.replace(
        "    exit_gates: [weekly-active, budget-fits]",
        "    exit_gates: [weekly-active, budget-fits, active-average, hours-total, hours-least,\n"
        "                 hours-most, hours-count, balance-average]",
    )
    text = text.replace(
        "gates:\n  - {name: weekly-active,", f"gates:\n{GATES}  - {{name: weekly-active,"
    )
    rate_kpi = "    - {name: weekly_active_rate, title: Weekly active rate, unit: fraction,"
    text = text.replace(
        rate_kpi,
        "    - {name: answer_share, title: Answered, unit: percent, target: 50}\n" + rate_kpi,
    )
    return text.replace(
        "  - {name: time_saved_hours, unit: hours}\n",
        metrics
        or "  - {name: time_saved_hours, unit: hours}\n  - {name: balance}\n"
        "  - {name: answer_share, unit: percent}\n",
    )


def _refuse(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _status(tmp_path: Path, store_url: str) -> dict[str, Any]:
    """`status --json` parsed strictly: Infinity or NaN in it fail the test."""
    result = run(
        "status", "--json", "--as-of", AS_OF.isoformat(), cwd=tmp_path, database_url=store_url
    )
    assert result.returncode == 0, result.stderr
    parsed: dict[str, Any] = json.loads(result.stdout, parse_constant=_refuse)
    return parsed


def _gates(status: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["name"], g["gate"]): g for d in status["departments"] for g in d["gates"]}


def _report(engine: Engine) -> tuple[ReportData, str, str]:
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        data = build_report(session=session, view=view, now=AS_OF)
    return data, render_html(data), render_markdown(data)


def _numbers(values: Iterable[float | None]) -> list[float]:
    found = [v for v in values if v is not None]
    assert all(math.isfinite(v) for v in found), found
    return found


# --------------------------------------------------------------------------- rows from before


def _store_raw(engine: Engine, rows: list[tuple[str, str, float, datetime]]) -> None:
    """Rows as the code before ranges wrote them: straight into the table."""
    with Session(engine) as session, session.begin():
        depts = {d.name: d for d in session.exec(select(Department)).all()}
        insert_ignore(
            session=session,
            model=MetricObservation,
            rows=[
                {
                    "program_id": depts[d].program_id,
                    "department_id": depts[d].id,
                    "metric": metric,
                    "value": value,
                    "observed_at": at,
                    "source": "old-import.csv",
                }
                for d, metric, value, at in rows
            ],
        )


def test_rows_stored_before_ranges_were_checked_are_left_out_and_named(
    store_url: str, tmp_path: Path
) -> None:
    engine = get_engine(store_url)
    piloting(engine, _plan())
    hour = timedelta(hours=1)
    postgres = store_url.startswith("postgresql")
    _store_raw(
        engine,
        [("finance", "weekly_active_rate", 1e308, AS_OF - hour - i * hour) for i in range(25)]
        + [("finance", "weekly_active_rate", 17.5, AS_OF - 30 * hour)]
        + [("finance", "weekly_active_rate", 0.4, AS_OF - 40 * hour)]  # the one real value
        + [("finance", "time_saved_hours", 1e308, AS_OF - i * hour) for i in (2, 3)]
        + [("finance", "time_saved_hours", 12.0, AS_OF - 50 * hour)]
        + [("legal", "weekly_active_rate", 1e308, AS_OF - i * hour) for i in (2, 3)]
        + [("legal", "licensed_users", -3.0, AS_OF - hour)]
        + [("legal", "time_saved_hours", math.inf, AS_OF - hour)]
        # PostgreSQL stores NaN as such (SQLite would store NULL, which the column refuses).
        + ([("legal", "time_saved_hours", math.nan, AS_OF - 2 * hour)] if postgres else []),
    )

    status = _status(tmp_path, store_url)
    gates = _gates(status)
    prepared = prepare_check(engine=engine, now=AS_OF)
    applied = apply_check(engine=engine, prepared=prepared)
    data, page, summary = _report(engine)
    page_result = run(
        "report", "--out", "r.html", "--as-of", AS_OF.isoformat(),
        cwd=tmp_path, database_url=store_url,
    )  # fmt: skip

    # The gates decide on the real values only, and say what they left out.
    average = gates[("finance", "active-average")]
    assert (average["outcome"], average["observed"]) == ("pass", 0.4)
    assert "(1 sample; 26 observations outside the metric's range left out)" in average["reason"]
    latest = gates[("finance", "weekly-active")]
    assert (latest["outcome"], latest["observed"]) == ("fail", 0.4)
    assert gates[("finance", "hours-total")]["observed"] == 12.0
    legal = gates[("legal", "active-average")]
    assert legal["outcome"] == "pending"
    assert legal["reason"].startswith(
        "no weekly active rate data in the last 1w (needs 1 sample; 2 observations outside the "
        "metric's range left out)"
    )
    hours = gates[("legal", "hours-total")]
    assert (hours["outcome"], hours["observed"]) == ("pending", None)
    left_out = "2 observations" if postgres else "1 observation"
    assert f"(needs 1 sample; {left_out} outside the metric's range left out)" in hours["reason"]
    # The check runs and holds; the report and the digest show finite figures.
    assert {str(d.action) for d in applied.decisions} == {"hold"}
    kpis = {k.kpi: k.actual for k in data.program_impact}
    assert kpis == {"time_saved_hours": 12.0, "weekly_active_rate": 0.4, "answer_share": None}
    funnel = {(f.department, f.segment): f.counts for f in data.funnel}
    assert funnel.get(("legal", "all"), (None,))[0] is None  # -3 licensed users: no count
    assert not NOT_A_NUMBER.search(page)
    assert not NOT_A_NUMBER.search(summary)
    assert page_result.returncode == 0, page_result.stderr
    with Session(engine, expire_on_commit=False) as session:
        this_week, _ = impact.digest_totals(
            session=session, view=load_view(session=session), now=AS_OF
        )
    assert this_week["time_saved_hours"] == 12.0


# --------------------------------------------------------------------------- the extremes

ROWS = 1500  # per department and metric, all at the end of the range


def _import_extremes(engine: Engine) -> int:
    """Many rows at the ends of the ranges, through the import's own validation."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
    catalog = Catalog(view.plan, as_of=AS_OF)
    ends = {
        "weekly_active_rate": "1",
        "time_saved_hours": "1e15",  # the highest max a plan may declare
        "balance": "-1e15",
        "answer_share": "100",
        "licensed_users": "1000000000",  # the default ceiling
    }
    records = [
        Record(
            n,
            {
                "department": department,
                "metric": metric,
                "value": value,
                "observed_at": (AS_OF - timedelta(minutes=3 * i + 1)).isoformat(),
            },
        )
        for department in ("finance", "legal")
        for metric, value in ends.items()
        for n, i in enumerate(range(ROWS), start=2)
    ]
    rows = list(validate("observations", records, catalog))
    assert not [r for r in rows if isinstance(r, list)]
    with Session(engine) as session, session.begin():
        writer = ImportWriter(
            session=session,
            program_id=view.program.id or 0,
            department_ids={d.name: d.id or 0 for d in view.departments},
            source="extremes.csv",
        )
        for row in rows:
            writer.add(row)  # type: ignore[arg-type]
        return writer.finish().written


def test_many_rows_at_the_ends_of_the_ranges_keep_every_figure_finite(
    store_url: str, tmp_path: Path
) -> None:
    engine = get_engine(store_url)
    piloting(
        engine,
        _plan(
            "  - {name: time_saved_hours, unit: hours, max: 1e15}\n"
            "  - {name: balance, min: -1e15, max: 1e15}\n"
            "  - {name: answer_share, unit: percent}\n"
        ),
    )
    assert _import_extremes(engine) == 2 * 5 * ROWS

    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session)
        names = {d.id or 0: d.name for d in view.departments}
        ids = {d.name: d.id or 0 for d in view.departments}
        verdicts = read_verdicts(session=session, view=view, now=AS_OF)
        every = domains(view.plan, ["weekly_active_rate", "time_saved_hours", "balance",
                                    "answer_share", "licensed_users"])  # fmt: skip
        stats = impact.metric_stats(
            session=session, department_names=names, metrics=every, now=AS_OF
        )
        latest = impact.latest_values(
            session=session, department_names=names, metrics=every, now=AS_OF
        )
        daily = impact.daily_averages(
            session=session,
            department_names=names,
            metric="time_saved_hours",
            domain=domain_of(view.plan, "time_saved_hours"),
            since=AS_OF - timedelta(days=28),
            now=AS_OF,
            timezone=ZoneInfo(view.plan.program.timezone),
        )
        samples = impact.samples(
            session=session,
            department_id=ids["finance"],
            metric="balance",
            domain=domain_of(view.plan, "balance"),
            since=AS_OF - timedelta(days=28),
            now=AS_OF,
        )
        digest, _ = impact.digest_totals(session=session, view=view, now=AS_OF)
    prepared = prepare_check(engine=engine, now=AS_OF)
    applied = apply_check(engine=engine, prepared=prepared)
    data, page, summary = _report(engine)
    status = _status(tmp_path, store_url)
    page_result = run(
        "report", "--out", "r.html", "--as-of", AS_OF.isoformat(),
        cwd=tmp_path, database_url=store_url,
    )  # fmt: skip

    results = {(d, r.gate): r for d, v in verdicts.items() for r in v.gates}
    assert _numbers(r.observed for r in results.values())
    assert results[("finance", "hours-total")].observed == ROWS * 1e15
    assert results[("finance", "balance-average")].observed == -1e15
    assert results[("finance", "active-average")].outcome.value == "pass"
    assert stats[("finance", "time_saved_hours")].total == ROWS * 1e15
    assert stats[("legal", "balance")].total == -ROWS * 1e15
    _numbers(s.total for s in stats.values())
    _numbers(s.recent_total for s in stats.values())
    assert latest[("finance", "", "licensed_users")] == 1e9
    _numbers(v for series in daily.values() for _, v in series)
    _numbers(v for _, v in samples)
    assert _numbers(digest.values())
    assert {str(d.action) for d in applied.decisions} <= {"hold", "advance"}
    _numbers(k.actual for k in data.program_impact)
    _numbers(k.actual for rows in data.department_impact.values() for k in rows)
    assert "| Answered | 100.0 % |" in summary  # a percentage stays a percentage
    assert not NOT_A_NUMBER.search(page)
    assert not NOT_A_NUMBER.search(summary)
    _numbers(g["observed"] for g in _gates(status).values())
    assert page_result.returncode == 0, page_result.stderr
