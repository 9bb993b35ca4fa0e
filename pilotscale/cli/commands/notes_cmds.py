"""`note`: lessons learned in a department, kept with who wrote them."""

from __future__ import annotations

import typer

from pilotscale.cli.app import app
from pilotscale.cli.commands.rollout_cmds import BehalfReason, By, OnBehalfOf, _actor, _guard
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import terminal, text

console = terminal()


@app.command()
def note(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    lesson: str = typer.Argument(
        ..., help="What was learned, in a sentence or two.", show_default=False
    ),
    by: str | None = By,
    on_behalf_of: str | None = OnBehalfOf,
    reason: str = BehalfReason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Record a lesson learned in a department; it shows in the report and on its web page.

    Its people, sponsor, champions and support owners, and the leads, may write one.

    Example:

      pilotscale note hr "Office hours at 9:00 reached more people than at 16:00" \
        --by ana.ruiz@acme.example
    """
    from pilotscale.engine.notes import record_note

    done = _guard(
        lambda: record_note(
            engine=store_engine(),
            department=department,
            actor=_actor(by, on_behalf_of, reason),
            text=lesson,
            now=parse_as_of(as_of),
            program=program,
        )
    )
    console.print(text(done.message))
