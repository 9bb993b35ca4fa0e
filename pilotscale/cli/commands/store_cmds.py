"""`pilotscale apply` and `pilotscale db`: load a plan into the store, look after the schema."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from pilotscale.cli.app import app, err_console
from pilotscale.cli.commands.plan_cmds import AllowIncomplete, print_problems, print_warnings
from pilotscale.cli.errors import refused, store_error
from pilotscale.cli.options import AsOf, parse_as_of
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import json_text, plain, text

# The plan loader (YAML), the store (SQLAlchemy) and its apply are imported by the
# commands that use them, so that `--help` and the read commands start without them.
if TYPE_CHECKING:
    from pilotscale.plan.loader import LoadedPlan

db_app = typer.Typer(
    name="db",
    help=(
        "Look after the store's schema (SQLite by default, PostgreSQL with "
        "PILOTSCALE_DATABASE_URL).\n\n"
        "Example:\n\n"
        "  pilotscale db current     # schema revision and store URL (password hidden)"
    ),
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@app.command("apply")
def apply_command(
    plan: Path = typer.Argument(..., help="The rollout plan (YAML).", show_default=False),
    force: bool = typer.Option(
        False,
        "--force",
        help="Remove started departments the plan no longer lists (their history is kept).",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show what would change and write nothing."
    ),
    allow_incomplete: bool = AllowIncomplete,
    as_of: str | None = AsOf,
) -> None:
    """Load a rollout plan into the store; applying the same plan again changes nothing.

    The plan is validated first, as `pilotscale validate` does: a plan with problems, or
    missing an essential (unless --allow-incomplete), is not applied (exit code 2).
    Prints each change on its own line ("department hr: headcount 120 → 140"), or
    "no changes". A plan that would drop a department already in flight is refused
    (exit code 4) unless --force; removed departments keep their history. --as-of dates
    the change (its history rows, a department's entry into its initial phase), in the
    plan's time zone when it has none.

    Example:

      pilotscale apply plan.yaml

      pilotscale apply examples/acme-ai-assistant.yaml --allow-incomplete  # warns: Sales

      pilotscale apply plan.yaml --dry-run     # what would change, nothing written
    """
    from sqlmodel import Session

    from pilotscale.models import utcnow
    from pilotscale.store.apply import ApplyRefused, apply_plan
    from pilotscale.store.identity import os_user
    from pilotscale.store.versioned import ConcurrentUpdate

    loaded = _load(plan, allow_incomplete=allow_incomplete)
    now = parse_as_of(as_of, zone=loaded.plan.program.timezone) if as_of else utcnow()
    engine = store_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            report = apply_plan(
                session=session,
                loaded=loaded,
                force=force,
                now=now,
                actor=os_user() or "cli",
            )
        except ApplyRefused as exc:
            session.rollback()
            err_console.print(text(f"{plan}: not applied:"))
            for reason in exc.reasons:
                err_console.print(text(f"  {reason}"))
            raise typer.Exit(code=exc.exit_code) from None
        except ConcurrentUpdate as exc:
            session.rollback()
            raise refused(exc) from None
        if dry_run:
            session.rollback()
        else:
            session.commit()
    print_warnings(loaded.warnings)
    if report.unchanged:
        print(plain(f"no changes: program {report.program} already has this plan"))
        return
    for line in report.changes:
        print(plain(line))
    for warning in report.warnings:  # e.g. a headcount the roster disagrees with
        err_console.print(text(f"warning: {warning}"))
    if dry_run:
        err_console.print("dry run: nothing was written", markup=False)


def _load(plan: Path, *, allow_incomplete: bool) -> LoadedPlan:
    from pilotscale.plan.loader import Essentials, load_plan
    from pilotscale.plan.problems import PlanError

    check = Essentials.warn if allow_incomplete else Essentials.refuse
    try:
        return load_plan(plan, check=check)
    except PlanError as exc:
        print_problems(exc)
        count = len(exc.problems)
        err_console.print(
            text(f"{plan}: {count} problem{'s' if count != 1 else ''} found; nothing applied")
        )
        raise typer.Exit(code=2) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the store's schema to the latest revision (every command also does this).

    Example:

      PILOTSCALE_DATABASE_URL=postgresql://pilotscale@db:5432/pilotscale pilotscale db upgrade
    """
    from pilotscale.db import StoreError, current_revision, display_url, upgrade

    engine = store_engine(migrate=False)
    try:
        before = current_revision(engine=engine)
        upgrade(engine=engine)
        after = current_revision(engine=engine)
    except StoreError as exc:
        raise store_error(exc) from None
    if before == after:
        print(f"already at revision {after}: {display_url(engine)}")
    else:
        print(
            f"upgraded from {before or 'an empty store'} to revision {after}: {display_url(engine)}"
        )


@db_app.command("current")
def db_current(
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Machine-readable output on stdout: revision, head, up_to_date, store.",
    ),
) -> None:
    """Print the store's schema revision and its URL (with the password hidden).

    Example:

      pilotscale db current

      pilotscale db current --json | jq .up_to_date
    """
    from pilotscale.db import StoreError, current_revision, display_url, head_revision

    engine = store_engine(migrate=False)
    try:
        revision = current_revision(engine=engine)
        head = head_revision()
    except StoreError as exc:
        raise store_error(exc) from None
    if as_json:
        print(
            json_text(
                {
                    "revision": revision,  # None: an empty store
                    "head": head,
                    "up_to_date": revision == head,
                    "store": display_url(engine),
                }
            )
        )
        return
    if revision == head:
        state = f"{revision} (head)"
    elif revision is None:
        state = "none (empty store; run: pilotscale db upgrade)"
    else:
        state = f"{revision} (latest is {head}; run: pilotscale db upgrade)"
    print(f"revision: {state}")
    print(f"store: {display_url(engine)}")
