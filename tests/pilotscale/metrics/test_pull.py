"""Metric sources pulled before a check: a real HTTP server on loopback, a real SQLite
"other database"; a failing source holds its gates as pending, never passing."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.states import Outcome
from pilotscale.engine.check import apply_check, prepare_check
from pilotscale.engine.pull import pull_due_sources
from pilotscale.models import Department, MetricObservation
from pilotscale.plan.loader import load_plan_text
from pilotscale.store.apply import apply_plan
from pilotscale.store.insert import insert_ignore
from tests.pilotscale.metrics.helpers import NOW, PLAN, observations, piloting

TOKEN = "s3cr3t-t0ken-d0-not-log"


class Endpoint:
    """A loopback JSON endpoint that fails (503) or answers, and counts requests."""

    def __init__(self) -> None:
        self.failing = True
        self.rates: dict[str, object] = {"finance": 0.72, "legal": 0.31}
        self.requests: list[tuple[str, str | None]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                endpoint.requests.append((self.path, self.headers.get("Authorization")))
                if endpoint.failing:
                    self._send(
                        503, {"error": f"down, token was {self.headers.get('Authorization')}"}
                    )
                elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self._send(401, {"error": "who are you"})
                else:
                    department = self.path.rsplit("/", 1)[-1]
                    self._send(200, {"data": {"rate": endpoint.rates[department]}})

            def _send(self, status: int, body: object) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Endpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with Endpoint() as server:
        yield server


def _http_plan(url: str) -> str:
    return PLAN.replace(
        "  - {name: weekly_active_rate, unit: fraction}\n",
        "  - name: weekly_active_rate\n"
        "    unit: fraction\n"
        f"    source: {{kind: http, url: '{url}/rate/{{department}}', value_path: data.rate,\n"
        "             headers_ref: 'env:METRICS_HEADERS', timeout: 1m, every: 1h}\n",
    )


ENV = {"METRICS_HEADERS": json.dumps({"Authorization": f"Bearer {TOKEN}"})}


def _pull(engine: Engine, now=NOW, environ=ENV):  # type: ignore[no-untyped-def]
    return pull_due_sources(engine=engine, now=now, environ=environ, backoff=(0.0, 0.0))


def _outcomes(engine: Engine, now=NOW, errors=None):  # type: ignore[no-untyped-def]
    prepared = prepare_check(engine=engine, now=now, metric_errors=errors)
    return {
        d.department: {r.gate: (r.outcome, r.observed_text, r.reason) for r in d.verdict.results}
        for d in prepared.decisions
        if d.verdict is not None
    }


def test_a_failing_source_holds_its_gates_pending_even_with_good_old_data(
    engine: Engine, endpoint: Endpoint
) -> None:
    piloting(engine, _http_plan(endpoint.url))
    _store_rate(engine, "finance", 0.9)  # an earlier, passing value

    report = _pull(engine)
    gates = _outcomes(engine, errors=report.errors)

    assert list(report.errors) == ["weekly_active_rate"]
    assert report.errors["weekly_active_rate"] == (
        f"HTTP 503 from {endpoint.url}/rate/finance (after 3 attempts)"
    )
    assert len(endpoint.requests) == 3  # retried, then given up: the first department failed
    outcome, observed, reason = gates["finance"]["weekly-active"]
    assert outcome is Outcome.pending
    assert observed.startswith("source failed: HTTP 503")
    assert "check the source of metric 'weekly_active_rate'" in reason
    # Without the error the old value would have passed: the error is what holds it.
    assert _outcomes(engine)["finance"]["weekly-active"][0] is Outcome.passed
    assert TOKEN not in json.dumps(report.errors)


def test_a_recovered_source_feeds_fresh_values_and_is_not_pulled_again_until_due(
    engine: Engine, endpoint: Endpoint
) -> None:
    piloting(engine, _http_plan(endpoint.url))
    endpoint.failing = False

    first = _pull(engine)
    again = _pull(engine, now=NOW + timedelta(minutes=30))
    later = _pull(engine, now=NOW + timedelta(hours=1, minutes=1))
    gates = _outcomes(engine, now=NOW + timedelta(hours=1, minutes=1), errors=later.errors)

    assert first.errors == {}
    assert first.pulled == {"weekly_active_rate": 2}
    assert again.not_due == ["weekly_active_rate"]
    assert again.pulled == {}
    assert later.pulled == {"weekly_active_rate": 2}
    assert [path for path, _ in endpoint.requests] == ["/rate/finance", "/rate/legal"] * 2
    assert all(auth == f"Bearer {TOKEN}" for _, auth in endpoint.requests)
    assert gates["finance"]["weekly-active"][0] is Outcome.passed
    assert gates["legal"]["weekly-active"][0] is Outcome.failed  # 0.31 < 0.5, a real fail
    with Session(engine) as session:
        sources = set(session.exec(select(MetricObservation.source)).all())
    assert sources == {"http", "budget"}


def test_a_missing_secret_is_a_source_failure(engine: Engine, endpoint: Endpoint) -> None:
    piloting(engine, _http_plan(endpoint.url))
    endpoint.failing = False

    report = _pull(engine, environ={})

    assert report.errors == {
        "weekly_active_rate": "environment variable METRICS_HEADERS is not set"
    }
    assert endpoint.requests == []


def test_the_check_applies_pending_not_fail_when_the_source_is_down(
    engine: Engine, endpoint: Endpoint
) -> None:
    piloting(engine, _http_plan(endpoint.url))

    report = _pull(engine)
    applied = apply_check(
        engine=engine,
        prepared=prepare_check(engine=engine, now=NOW, metric_errors=report.errors),
    )

    decisions = {d.department: d for d in applied.decisions}
    assert str(decisions["finance"].action) == "hold"
    assert decisions["finance"].consecutive_failures == 0  # pending never counts as failing


# --------------------------------------------------------------------------- SQL


def _sql_plan(query: str) -> str:
    return PLAN.replace(
        "  - {name: time_saved_hours, unit: hours}\n",
        "  - name: time_saved_hours\n"
        "    unit: hours\n"
        f"    source: {{kind: sql, connection: 'env:USAGE_DB', query: \"{query}\"}}\n",
    )


SAVED = [
    ("finance", 12.5, "2026-10-30"),
    ("finance", 7.5, "2026-10-31"),
    ("legal", 3, "2026-10-31"),
    ("marketing", 99, "2026-10-31"),
]


def _usage_db(tmp_path: Path, rows: list[tuple[str, float, str]] = SAVED) -> str:
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE saved (dept TEXT, hours REAL, day TEXT)")
        db.executemany("INSERT INTO saved VALUES (?, ?, ?)", rows)
    return f"sqlite:///{path}"


def test_a_sql_source_reads_another_database(engine: Engine, tmp_path: Path) -> None:
    piloting(
        engine,
        _sql_plan("SELECT dept AS department, hours AS value, day AS observed_at FROM saved"),
    )

    report = _pull(engine, environ={"USAGE_DB": _usage_db(tmp_path)})

    assert report.errors == {}
    assert report.pulled == {"time_saved_hours": 3}
    assert report.ignored["time_saved_hours"] == 1  # marketing is not a department of the plan
    with Session(engine) as session:
        rows = session.exec(
            select(MetricObservation.value, MetricObservation.observed_at)
            .where(col(MetricObservation.metric) == "time_saved_hours")
            .order_by(col(MetricObservation.observed_at), col(MetricObservation.value))
        ).all()
    # A day without a zone is local midnight (Madrid, UTC+1 then).
    assert [(v, at.isoformat()) for v, at in rows] == [
        (12.5, "2026-10-29T23:00:00+00:00"),
        (3.0, "2026-10-30T23:00:00+00:00"),
        (7.5, "2026-10-30T23:00:00+00:00"),
    ]


def test_a_sql_source_per_department(engine: Engine, tmp_path: Path) -> None:
    piloting(engine, _sql_plan("SELECT sum(hours) AS value FROM saved WHERE dept = :department"))

    report = _pull(engine, environ={"USAGE_DB": _usage_db(tmp_path)})

    assert report.pulled == {"time_saved_hours": 2}
    assert observations(engine, "time_saved_hours") == 2


def test_a_failing_query_is_retried_then_reported_without_the_password(
    engine: Engine, tmp_path: Path
) -> None:
    piloting(engine, _sql_plan("SELECT department, value FROM no_such_table"))
    password = "hunter2-very-secret"

    missing_table = _pull(engine, environ={"USAGE_DB": _usage_db(tmp_path)})
    unreachable = _pull(
        engine, environ={"USAGE_DB": f"postgresql://reader:{password}@127.0.0.1:9/warehouse"}
    )

    assert missing_table.errors["time_saved_hours"] == (
        "env:USAGE_DB (sqlite): OperationalError: no such table: no_such_table (after 3 attempts)"
    )
    error = unreachable.errors["time_saved_hours"]
    assert error.startswith("env:USAGE_DB (postgresql): OperationalError: connection")
    assert password not in error
    assert observations(engine, "time_saved_hours") == 0


# --------------------------------------------------------------------------- domains


def test_a_rate_out_of_range_fails_the_source_and_nothing_of_it_is_stored(
    engine: Engine, endpoint: Endpoint
) -> None:
    piloting(engine, _http_plan(endpoint.url))
    endpoint.failing = False
    endpoint.rates = {"finance": 17.5, "legal": 0.31}

    report = _pull(engine)
    gates = _outcomes(engine, errors=report.errors)

    assert report.errors == {
        "weekly_active_rate": "finance: 17.5 is outside the range of weekly_active_rate, 0 to 1 "
        "(a fraction: write 62 % as 0.62, or declare the metric with unit: percent)"
    }
    assert observations(engine, "weekly_active_rate") == 0  # not even legal's good 0.31
    assert {g["weekly-active"][0] for g in gates.values()} == {Outcome.pending}
    assert gates["finance"]["weekly-active"][1].startswith("source failed: finance: 17.5 is")


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        (
            [("finance", 1e308, "2026-10-30"), ("legal", 1e308, "2026-10-31")],
            "finance: 1e+308 is outside the range of time_saved_hours, 0 to 1,000,000,000",
        ),
        ([("legal", -4.0, "2026-10-31")], "legal: -4 is outside the range of time_saved_hours"),
        (
            [("finance", 2.0, "2026-10-31"), ("legal", 1.0, "9999-01-01")],
            "legal: observed_at 9998-12-31 23:00 UTC is more than a day after 2026-11-02 09:00 "
            "UTC, the moment of this check",
        ),
        (
            [("finance", 2.0, "2016-10-31")],
            "finance: observed_at 2016-10-30 23:00 UTC is more than ten years before",
        ),
    ],
    ids=["1e308", "negative", "year-9999", "ten-years-old"],
)
def test_a_sql_source_out_of_its_domain_fails_and_stores_nothing(
    engine: Engine, tmp_path: Path, rows: list[tuple[str, float, str]], error: str
) -> None:
    piloting(
        engine,
        _sql_plan("SELECT dept AS department, hours AS value, day AS observed_at FROM saved"),
    )

    report = _pull(engine, environ={"USAGE_DB": _usage_db(tmp_path, rows)})

    assert report.errors["time_saved_hours"].startswith(error)
    assert report.pulled == {}
    assert observations(engine, "time_saved_hours") == 0


def test_a_budget_projection_beyond_any_range_is_an_error_not_a_row(engine: Engine) -> None:
    piloting(engine, PLAN.replace("approved_scale_budget: 50000", "approved_scale_budget: 1e-300"))

    report = _pull(engine)
    gates = _outcomes(engine, errors=report.errors)

    assert report.errors["budget_projection_ratio"].startswith(
        "2.58e+304 is outside the range of budget_projection_ratio, 0 to 1,000,000,000"
    )
    assert observations(engine, "budget_projection_ratio") == 0
    assert gates["finance"]["budget-fits"][0] is Outcome.pending


# --------------------------------------------------------------------------- budget gate


def test_the_budget_projection_feeds_a_gate(engine: Engine) -> None:
    piloting(engine)
    tight = PLAN.replace("approved_scale_budget: 50000", "approved_scale_budget: 20000")

    fits = _pull(engine)
    gates = _outcomes(engine)

    assert fits.budget_ratio == pytest.approx(25_800 / 50_000)
    assert gates["finance"]["budget-fits"][0] is Outcome.passed

    later = NOW + timedelta(hours=2)
    with Session(engine) as session, session.begin():
        apply_plan(
            session=session, loaded=load_plan_text(tight, "plan.yaml"), now=later, actor="leo"
        )
    over = _pull(engine, now=later)
    result = _outcomes(engine, now=later)["legal"]["budget-fits"]

    assert over.budget_ratio == pytest.approx(25_800 / 20_000)
    assert result[0] is Outcome.failed
    assert result[1] == "1.29 (2 samples)"  # `last` of the window: the new projection


def _store_rate(engine: Engine, department: str, value: float) -> None:
    with Session(engine) as session, session.begin():
        dept = session.exec(select(Department).where(col(Department.name) == department)).one()
        insert_ignore(
            session=session,
            model=MetricObservation,
            rows=[
                {
                    "program_id": dept.program_id,
                    "department_id": dept.id,
                    "metric": "weekly_active_rate",
                    "value": value,
                    "observed_at": NOW - timedelta(days=1),
                    "source": "import",
                }
            ],
        )
