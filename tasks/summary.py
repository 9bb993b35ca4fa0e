"""The readiness check's summary in the Prefect UI: the report's figures as Markdown."""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from pilotscale.db import get_engine
from pilotscale.report.data import read_report
from pilotscale.report.markdown import render_markdown
from pilotscale.tasks.artifacts import _key


@task(name="publish-summary", cache_policy=NO_CACHE)
def publish_summary(
    *, as_of: datetime, program: str | None = None, metric_errors: dict[str, str] | None = None
) -> str:
    """Phase board, held departments with their forecast, impact and budget — as they stand
    after the check applied its decisions. Returns the Markdown."""
    data = read_report(
        engine=get_engine(),
        program=program,
        now=as_of,
        metric_errors=metric_errors,
        with_curve=False,
    )
    markdown = render_markdown(data)
    create_markdown_artifact(
        key=_key(data.program, "summary"),
        markdown=markdown,
        description=f"Rollout summary as of {as_of:%Y-%m-%d %H:%M} UTC",
    )
    return markdown
