"""`pilotscale metrics import`: observations, LMS completions and acknowledgements from files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pilotscale.cli.app import app
from pilotscale.cli.errors import CliError
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of, program_view
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import plain, terminal, text

# Imported where used: `pilotscale status` and the other read commands start without the
# reading, validation and writing of imports (and the PostgreSQL dialect they load).
if TYPE_CHECKING:
    from pilotscale.metrics.ingest import Catalog, RowProblem
    from pilotscale.metrics.reader import Progress as ProgressFn
    from pilotscale.metrics.reader import RecordFile
    from pilotscale.store.imports import ImportCounts

metrics_app = typer.Typer(
    name="metrics",
    help="Feed the gates: import metric observations, training completions and acknowledgements.",
    no_args_is_help=True,
)
app.add_typer(metrics_app, name="metrics")

console = terminal(piped_width=160)
err = terminal(stderr=True, soft_wrap=True)
MAX_SHOWN = 50

KIND_HELP = (
    "What the file holds: 'observations' (department, metric, value, observed_at, optional "
    "segment and person), 'training' (person as id or email, module, completed_at: an LMS "
    "export) or 'acks' (department, champion, acknowledged_at)."
)
FORMAT_HELP = (
    "csv, json (an array of objects, or one object per line) or jsonl; "
    "default: from the file extension."
)


@metrics_app.command("import")
def import_file(
    file: Path = typer.Argument(..., help="CSV or JSON file.", show_default=False),
    kind: str = typer.Option("observations", "--kind", help=KIND_HELP),
    fmt: str | None = typer.Option(None, "--format", help=FORMAT_HELP, show_default=False),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; write nothing."),
    as_of: str | None = AsOf,
    program: str | None = ProgramOpt,
) -> None:
    """Import a file, all or nothing: every row is checked first (problems as FILE:ROW: column:
    message, exit 2, nothing written); rows already imported are ignored, so re-importing a
    file is safe. A date alone is midnight, and a time without a zone is local time, in the
    program's time zone (the plan's program.timezone): in the file and in --as-of alike.

    A value must lie in its metric's range (0 to 1 for a fraction, 0 to 100 for a percentage,
    0 to 1e9 for a count or amount, or min/max under the plan's metrics), and a time at most
    a day after --as-of (default: now) and at most ten years before it.

    Example:

      pilotscale metrics import usage-2026-11.csv

      pilotscale metrics import lms-export.json --kind training
    """
    from pilotscale.metrics.ingest import KINDS, Catalog, validate
    from pilotscale.metrics.reader import RecordFile, detect_format
    from pilotscale.store.imports import ImportWriter

    if kind not in KINDS:
        raise CliError(f"--kind '{kind}' is not one of: {', '.join(KINDS)}")
    if not file.is_file():
        raise CliError(f"{file}: no such file")
    try:
        source = RecordFile(file, detect_format(file, fmt))
    except ValueError as exc:
        raise CliError(f"{file}: {exc}") from None
    now = parse_as_of(as_of, program=program)
    with program_view(program) as (_, view):
        catalog = Catalog(view.plan, departments=[d.name for d in view.departments], as_of=now)
        department_ids = {d.name: d.id or 0 for d in view.departments}
        program_id = view.program.id or 0

    rows, problems, total = _check(source, kind, catalog)
    if total:
        for problem in problems:
            err.print(text(problem.render(str(file))))
        more = f" (first {MAX_SHOWN} shown)" if total > MAX_SHOWN else ""
        raise CliError(f"{file}: {total} problem(s){more}; nothing was imported")
    if not rows:
        console.print(text(f"{file}: no rows to import"))
        return
    if dry_run:
        console.print(text(f"{file}: {rows:,} valid {kind} rows; nothing written (--dry-run)"))
        return

    from sqlmodel import Session

    engine = store_engine()
    with (
        Session(engine) as session,
        session.begin(),
        progress(f"writing {file.name}", source.size) as advance,
    ):
        writer = ImportWriter(
            session=session,
            program_id=program_id,
            department_ids=department_ids,
            source=file.name,
        )
        for item in validate(
            kind, source.records(advance), catalog, header_checked=source.format == "csv"
        ):
            if isinstance(item, list):  # the file changed since it was checked
                raise CliError(f"{item[0].render(str(file))} (the file changed during the import)")
            writer.add(item)
        counts = writer.finish()
    console.print(text(_summary(file, kind, counts)))
    for why in counts.examples:
        console.print(text(f"  not recorded: {why}"))


def _check(source: RecordFile, kind: str, catalog: Catalog) -> tuple[int, list[RowProblem], int]:
    """First pass: valid rows, the first problems, and how many problems in all."""
    from pilotscale.metrics.ingest import RowProblem, check_header, validate
    from pilotscale.metrics.reader import ReadError

    shown: list[RowProblem] = []
    total = rows = 0
    header_done = False

    def note(problems: list[RowProblem]) -> None:
        nonlocal total
        total += len(problems)
        shown.extend(problems[: max(0, MAX_SHOWN - len(shown))])

    with progress(f"checking {source.path.name}", source.size) as advance:
        try:
            for item in validate(
                kind, source.records(advance), catalog, header_checked=source.format == "csv"
            ):
                if not header_done:
                    note(check_header(kind, source.header))
                    header_done = True
                if isinstance(item, list):
                    note(item)
                else:
                    rows += 1
        except ReadError as exc:
            note([RowProblem(exc.row, "", exc.reason)])
    if not header_done:
        note(check_header(kind, source.header))
    if source.format == "csv" and source.header is not None and total:
        # A bad header makes every row fail the same way; the header problem says it all.
        header = [p for p in shown if p.row == 1]
        if header:
            return rows, header, len(header)
    return rows, shown, total


@contextmanager
def progress(label: str, size: int) -> Iterator[ProgressFn]:
    """A progress bar on a terminal (stderr), nothing otherwise (CI logs, pipes)."""
    if not sys.stderr.isatty():
        yield lambda _done: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}", markup=False),  # the file's name, as it is
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(plain(label, one_line=True), total=size)
        yield lambda done: bar.update(task, completed=done)


def _summary(file: Path, kind: str, counts: ImportCounts) -> str:
    noun = {"observations": "observations", "training": "completions", "acks": "acknowledgements"}
    parts = [f"{counts.written:,} new {noun[kind]}"]
    if counts.duplicates:
        parts.append(f"{counts.duplicates:,} already recorded (ignored)")
    if counts.not_applicable:
        parts.append(f"{counts.not_applicable:,} with nothing to record them on yet")
    return f"imported {file}: {counts.rows:,} rows — " + ", ".join(parts)
