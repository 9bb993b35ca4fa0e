"""The readiness check's summary in the Prefect UI: the report's figures as Markdown."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from pilotscale.db import get_engine
from pilotscale.engine.check import CheckReport, PreparedCheck
from pilotscale.engine.check_facts import standing_verdicts
from pilotscale.report.data import ReportData, read_report
from pilotscale.report.markdown import PEOPLE_SHOWN, render_markdown
from pilotscale.tasks.artifacts import _key


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(
    *,
    as_of: datetime,
    program: str | None = None,
    metric_errors: dict[str, str] | None = None,
    prepared: PreparedCheck | None = None,
    report: CheckReport | None = None,
) -> str:
    """Phase board, held departments with their forecast, impact and budget — as they stand
    after the check applied its decisions. Returns the Markdown."""
    data, markdown = summary_of(
        engine=get_engine(),
        as_of=as_of,
        program=program,
        metric_errors=metric_errors,
        prepared=prepared,
        report=report,
    )
    create_markdown_artifact(
        key=_key(data.program, "summary"),
        markdown=markdown,
        description=f"Rollout summary as of {as_of:%Y-%m-%d %H:%M} UTC",
    )
    return markdown


def summary_of(
    *,
    engine: Engine,
    as_of: datetime,
    program: str | None,
    metric_errors: dict[str, str] | None = None,
    prepared: PreparedCheck | None = None,
    report: CheckReport | None = None,
) -> tuple[ReportData, str]:
    """The summary's figures and Markdown, reading only what the Markdown shows. Given the
    check (`prepared`, and the `report` of what it applied), the facts it read of the
    departments it did not move are not read again: the same Markdown, sooner."""
    data = read_report(
        engine=engine,
        program=program,
        now=as_of,
        metric_errors=metric_errors,
        with_charts=False,
        known=standing_verdicts(prepared, report) if prepared and report else None,
        people=PEOPLE_SHOWN,
    )
    return data, render_markdown(data)
