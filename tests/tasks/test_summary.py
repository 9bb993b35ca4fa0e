"""The readiness check's summary, built from the check's facts and reading only what its
Markdown shows, is the Markdown of the whole report read afresh after the check (SQLite
and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import Engine

from bench.generate import NOW
from pilotscale.report.data import read_report
from pilotscale.report.markdown import render_markdown
from pilotscale.tasks.summary import summary_of
from tests.pilotscale.engine.test_check_facts import checked


def test_the_summary_is_the_whole_report_read_afresh(engine: Engine) -> None:
    prepared, report, _ = checked(engine)

    data, markdown = summary_of(
        engine=engine, as_of=NOW, program=None, prepared=prepared, report=report
    )

    afresh = read_report(engine=engine, program=None, now=NOW)
    assert markdown == render_markdown(afresh)
    assert "no licences" in markdown  # a barrier of a held department
    assert "start small" in markdown  # a note
    # Who decided and attested, only the page shows: the summary does not read it.
    assert any(d.decisions for d in afresh.departments)
    assert not any(d.decisions for d in data.departments)


def test_without_the_check_the_summary_reads_everything_afresh(engine: Engine) -> None:
    checked(engine)

    _, markdown = summary_of(engine=engine, as_of=NOW, program=None)

    assert markdown == render_markdown(read_report(engine=engine, program=None, now=NOW))
