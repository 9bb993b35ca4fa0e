"""Options and conversions shared by the commands: the simulation clock, the program."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from sqlmodel import Session

from pilotscale.cli.errors import CliError, refused, unknown_name
from pilotscale.cli.store import store_engine
from pilotscale.refusal import Refusal
from pilotscale.store.snapshot import ProgramView, load_view

AS_OF_HELP = (
    "Act as if it were this moment (ISO 8601, e.g. 2026-12-07 or 2026-12-07T09:00+01:00; "
    "a date alone is midnight UTC). For simulations and back-fills; default: now."
)
PROGRAM_HELP = "The program to act on; needed only when the store holds several."

AsOf = typer.Option(None, "--as-of", help=AS_OF_HELP, show_default=False)
ProgramOpt = typer.Option(None, "--program", help=PROGRAM_HELP, show_default=False)


def parse_as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(
            f"--as-of '{value}' is not an ISO 8601 date or time; e.g. 2026-12-07 or "
            "2026-12-07T09:00+01:00"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def program_view(
    program: str | None, *, owners_only: bool = False
) -> Iterator[tuple[Session, ProgramView]]:
    """A read session on the store and the program in it, or one clear error line.
    `owners_only`: the plan holds only the people who own a gate (see `load_view`)."""
    engine = store_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            view = load_view(session=session, program=program, owners_only=owners_only)
        except Refusal as exc:
            raise refused(exc) from None
        yield session, view


def department_of(view: ProgramView, name: str) -> None:
    """Refuse an unknown department name, suggesting the closest known one."""
    known = [d.name for d in view.departments]
    if name not in known:
        raise unknown_name("department", name, known)
