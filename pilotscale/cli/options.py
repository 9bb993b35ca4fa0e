"""Options and conversions shared by the commands: the simulation clock, the program."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import typer

from pilotscale.cli.errors import CliError, refused, unknown_name
from pilotscale.cli.store import store_engine
from pilotscale.refusal import Refusal

# The store's modules load SQLAlchemy and SQLModel: only a command that reads the store
# imports them, when it runs (`--help` and `validate` never do).
if TYPE_CHECKING:
    from sqlmodel import Session

    from pilotscale.store.snapshot import ProgramView

# The one rule for a moment written without a zone, on the command line and in imported
# files alike (`pilotscale.metrics.timeparse`): the program's time zone, because that is
# the clock the people who write it live by.
TIME_RULE = (
    "A date alone is midnight, and a time without a zone is local time, in the program's "
    "time zone (the plan's program.timezone)."
)
AS_OF_HELP = (
    "Act as if it were this moment (ISO 8601, e.g. 2026-12-07, 2026-12-07T09:00 or "
    f"2026-12-07T09:00+01:00). {TIME_RULE} For simulations and back-fills; default: now."
)
PROGRAM_HELP = "The program to act on; needed only when the store holds several."

AsOf = typer.Option(None, "--as-of", help=AS_OF_HELP, show_default=False)
ProgramOpt = typer.Option(None, "--program", help=PROGRAM_HELP, show_default=False)


def parse_as_of(
    value: str | None, *, zone: str | None = None, program: str | None = None
) -> datetime:
    """--as-of as an aware UTC moment; now when not given. A date alone or a time without
    a zone is in `zone` (a plan's program.timezone), else in the time zone of `program`
    in the store (the only one when None)."""
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(
            f"--as-of '{value}' is not an ISO 8601 date or time; e.g. 2026-12-07, "
            "2026-12-07T09:00 or 2026-12-07T09:00+01:00"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone or program_zone(program)))
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC
        raise CliError(f"--as-of '{value}' is out of range for a date") from None


def program_zone(program: str | None) -> str:
    """The time zone of `program` in the store; UTC when the store cannot say which
    program (none yet, or several and no --program), where the command refuses anyway."""
    from sqlmodel import Session

    from pilotscale.store.queries import get_program

    engine = store_engine()
    with Session(engine) as session:
        try:
            return get_program(session=session, name=program).timezone
        except Refusal:
            return "UTC"


@contextmanager
def program_view(
    program: str | None, *, owners_only: bool = False
) -> Iterator[tuple[Session, ProgramView]]:
    """A read session on the store and the program in it, or one clear error line.
    `owners_only`: the plan holds only the people who own a gate (see `load_view`)."""
    from sqlmodel import Session

    from pilotscale.store.snapshot import load_view

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
