"""`pilotscale people import|list`: the HR roster, the department's real headcount."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pilotscale.cli.app import app
from pilotscale.cli.commands.metrics_cmds import MAX_SHOWN, progress
from pilotscale.cli.errors import CliError, refused, unknown_name
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import json_text, terminal, text
from pilotscale.refusal import Refusal

# The readers, the plan's schema and the store (SQLAlchemy) are imported by the commands
# when they run: `pilotscale --help` and the other commands never load them for these.
if TYPE_CHECKING:
    from pilotscale.metrics.ingest import RowProblem
    from pilotscale.metrics.reader import RecordFile
    from pilotscale.metrics.roster_ingest import RosterCatalog
    from pilotscale.plan.schema import Plan
    from pilotscale.store.roster_rows import RosterCounts

people_app = typer.Typer(
    name="people",
    help=(
        "The company's roster: import the HR export, see each department's people.\n\n"
        "Example:\n\n"
        "  pilotscale people import hr-export.csv\n\n"
        "  pilotscale people list hr"
    ),
    no_args_is_help=True,
)
app.add_typer(people_app, name="people")

console = terminal(piped_width=160)
err = terminal(stderr=True, soft_wrap=True)

FORMAT_HELP = (
    "csv, json (an array of objects, or one object per line) or jsonl; "
    "default: from the file extension."
)


@people_app.command("import")
def import_roster(
    file: Path = typer.Argument(
        ..., help="CSV or JSON export of the HR system.", show_default=False
    ),
    fmt: str | None = typer.Option(None, "--format", help=FORMAT_HELP, show_default=False),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; write nothing."),
    as_of: str | None = AsOf,
    program: str | None = ProgramOpt,
) -> None:
    """Import the roster, all or nothing: every row is checked first (problems as FILE:ROW:
    column: message, all of them, exit 2, nothing written). Importing the same file again
    changes nothing and says so.

    Columns (a CSV header, or the keys of JSON objects): id, name, email, department,
    segment (power, casual, or none: not a trainee), and optionally roles (e.g.
    "champion;approver"), manager (an id), chat (e.g. @ana), locale (e.g. es-ES) and the
    person's message preferences: notify (email, chat, both or digest), timezone (e.g.
    Europe/Madrid), quiet_hours (e.g. 20:00-08:00, their time) and digest_day (mon..sun).
    Ids are read in lower case (E1042 is e1042).

      id,name,email,department,segment,roles,manager,chat,locale
      e1042,Ana Ruiz,ana.ruiz@acme.example,hr,power,champion,e0007,@ana,es-ES

    A row whose id or email is a person of the plan is that person (the plan's fields
    win; the roster fills in department, segment, notify, time zone, quiet hours and
    digest day where the plan has none). People
    on the previous roster and missing from this one are deactivated, never deleted:
    they leave every denominator and come back if a later roster lists them. The
    departments' headcounts then count active people; a plan headcount more than 10 %
    off is warned about.

    Example:

      pilotscale people import hr-export-2026-12.csv

      pilotscale people import hr-export.json --dry-run
    """
    from sqlmodel import Session

    from pilotscale.metrics.reader import RecordFile, detect_format
    from pilotscale.metrics.roster_ingest import RosterCatalog, validate
    from pilotscale.store.queries import get_program, list_departments, load_program_plan
    from pilotscale.store.roster_rows import RosterWriter, active_counts

    if not file.is_file():
        raise CliError(f"{file}: no such file")
    try:
        source = RecordFile(file, detect_format(file, fmt))
    except ValueError as exc:
        raise CliError(f"{file}: {exc}") from None
    now = parse_as_of(as_of, program=program)
    engine = store_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            stored = get_program(session=session, name=program)
        except Refusal as exc:
            raise refused(exc) from None
        plan = load_program_plan(session=session, program=stored, people=False)
        departments = {
            d.name: d.id or 0 for d in list_departments(session=session, program_id=stored.id or 0)
        }
    catalog = RosterCatalog(plan, departments=departments)

    rows, problems, total = _check(source, catalog)
    if total:
        for problem in problems:
            err.print(text(problem.render(str(file))))
        more = f" (first {MAX_SHOWN} shown)" if total > MAX_SHOWN else ""
        raise CliError(f"{file}: {total} problem(s){more}; nothing was imported")
    if dry_run:
        console.print(text(f"{file}: {rows:,} valid people; nothing written (--dry-run)"))
        return

    with (
        Session(engine) as session,
        session.begin(),
        progress(f"writing {file.name}", source.size) as advance,
    ):
        writer = RosterWriter(
            session=session,
            program_id=stored.id or 0,
            plan=plan,
            department_ids=departments,
            now=now,
        )
        for item in validate(
            source.records(advance), catalog, header_checked=source.format == "csv"
        ):
            if isinstance(item, list):  # the file changed since it was checked
                raise CliError(f"{item[0].render(str(file))} (the file changed during the import)")
            writer.add(item)
        counts = writer.finish(fingerprint=_sha256(file))
        active = active_counts(session=session, program_id=stored.id or 0)
    console.print(text(_summary(file, counts)))
    for warning in _warnings(plan, active):
        err.print(text(warning))


def _check(source: RecordFile, catalog: RosterCatalog) -> tuple[int, list[RowProblem], int]:
    """First pass: valid rows, the first problems, and how many problems in all."""
    from pilotscale.metrics.ingest import RowProblem
    from pilotscale.metrics.reader import ReadError
    from pilotscale.metrics.roster_ingest import check_header, validate

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
                source.records(advance), catalog, header_checked=source.format == "csv"
            ):
                if not header_done:
                    note(check_header(source.header))
                    header_done = True
                if isinstance(item, list):
                    note(item)
                else:
                    rows += 1
        except ReadError as exc:
            note([RowProblem(exc.row, "", exc.reason)])
    if not header_done:
        note(check_header(source.header))
    if source.format == "csv" and source.header is not None and total:
        # A bad header makes every row fail the same way; the header problem says it all.
        header = [p for p in shown if p.row == 1]
        if header:
            return rows, header, len(header)
    return rows, shown, total


def _sha256(file: Path) -> str:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _summary(file: Path, counts: RosterCounts) -> str:
    if not counts.changed:
        return f"no changes: {file} ({counts.rows:,} people) matches the roster already imported"
    parts = [f"{counts.added:,} added", f"{counts.updated:,} updated"]
    if counts.reactivated:
        parts.append(f"{counts.reactivated:,} back on the roster")
    parts.append(f"{counts.deactivated:,} deactivated (not in this roster)")
    parts.append(f"{counts.unchanged:,} unchanged")
    return f"imported {file}: {counts.rows:,} people — " + ", ".join(parts)


def _warnings(plan: Plan, active: dict[str, int]) -> list[str]:
    # The store holds the plan, not its file: the path says where, `apply` adds the line.
    from pilotscale.core.roster import headcount_warnings

    return [f"warning: plan: {message}" for _, message in headcount_warnings(plan, active)]


@people_app.command("list")
def list_people(
    department: str | None = typer.Argument(
        None, help="One department; default: every department.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
    program: str | None = ProgramOpt,
) -> None:
    """Each department's active people by segment (plan and roster), against the plan's
    headcount; with a DEPARTMENT, also its people and how messages reach each of them
    (email, chat, both or a digest; their time zone, quiet hours and digest day, their own
    or the program's).

    Example:

      pilotscale people list

      pilotscale people list hr --json | jq '.people[] | select(.segment == "casual")'
    """
    from sqlmodel import Session

    from pilotscale.store.queries import get_program, list_departments, load_program_plan
    from pilotscale.store.roster_rows import has_roster, listed_people, segment_counts

    engine = store_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            stored = get_program(session=session, name=program)
        except Refusal as exc:
            raise refused(exc) from None
        program_id = stored.id or 0
        plan = load_program_plan(session=session, program=stored, people=False)
        rows = {d.name: d for d in list_departments(session=session, program_id=program_id)}
        if department is not None and department not in rows:
            raise unknown_name("department", department, list(rows))
        counts = segment_counts(session=session, program_id=program_id)
        roster = has_roster(session=session, program_id=program_id)
        people = (
            listed_people(session=session, program_id=program_id, department_id=rows[department].id)
            if department is not None
            else []
        )
    names = [department] if department is not None else list(rows)
    data = _listing(plan, names, counts, roster, people, department)
    if as_json:
        print(json_text(data))
        return
    if not roster:
        console.print(
            text("no roster imported yet: only the plan's people (pilotscale people import FILE)")
        )
    for entry in data["departments"]:
        by_segment = ", ".join(f"{n} {s}" for s, n in entry["segments"].items() if n)
        console.print(
            text(
                f"{entry['department']}: {entry['active']} active ({by_segment or 'nobody'}); "
                f"plan headcount {entry['plan_headcount']}"
            )
        )
    for person in data["people"]:
        console.print(
            text(
                f"  {person['id']}  {person['name']} <{person['email']}>  "
                f"{person['segment']}  ({person['source']}); {_reached(person)}"
            )
        )


def _reached(person: dict[str, Any]) -> str:
    """'by chat (@ana), Europe/Berlin, quiet 20:00-08:00, digest on fri'."""
    how = f"by {person['notify']}"
    if person["notify"] in ("chat", "both"):
        # Routing sends email to a chat person with no chat address: nobody is dropped.
        how += f" ({person['chat']})" if person["chat"] else " (no chat address: by email)"
    how += f", {person['timezone']}"
    if person["quiet_hours"]:
        how += f", quiet {person['quiet_hours']}"
    if person["digest_day"]:
        how += f", digest on {person['digest_day']}"
    return how


def _listing(
    plan: Plan,
    names: list[str],
    counts: dict[str, dict[str, int]],
    roster: bool,
    people: list[dict[str, Any]],
    department: str | None,
) -> dict[str, Any]:
    """`people`: rows of `listed_people`, of `department`. Each is shown with how messages
    reach them, as the engine decides it: the plan's chat for a plan person, the
    roster's notify, time zone, quiet hours and digest day where the plan names none,
    else email and the program's (`core.quiet_hours.preference_texts`)."""
    from pilotscale.core.quiet_hours import preference_texts
    from pilotscale.core.roster import ROSTER_SEGMENTS
    from pilotscale.store.roster_plan import roster_person, with_preferences

    def reached(row: dict[str, Any]) -> dict[str, Any]:
        own = plan.people_by_id.get(row["key"]) if row["source"] == "plan" else None
        if own is None:
            person = roster_person(row["key"], {**row, "department": department})
        else:
            person = with_preferences(own, row) if row["in_roster"] else own
        timezone, quiet, day = preference_texts(plan, person)
        return {
            "notify": person.effective_notify,
            "chat": person.chat,
            "timezone": timezone,
            "quiet_hours": quiet,
            "digest_day": day,
        }

    headcounts = {d.name: d.headcount for d in plan.departments}
    return {
        "roster_imported": roster,
        "departments": [
            {
                "department": name,
                "active": sum(counts.get(name, {}).values()),
                "plan_headcount": headcounts.get(name),
                "segments": {s: counts.get(name, {}).get(s, 0) for s in ROSTER_SEGMENTS},
            }
            for name in names
        ],
        "people": [
            {
                "id": p["key"],
                "name": p["name"],
                "email": p["email"],
                "segment": p["segment"],
                "source": p["source"],
                **reached(p),
            }
            for p in people
        ],
    }
