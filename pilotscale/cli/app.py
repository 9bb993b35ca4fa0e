"""The `pilotscale` typer application, alone in its module so that the command modules
(pilotscale.cli.commands) can register on it and main can import them: no cycle."""

from __future__ import annotations

import typer

from pilotscale.cli.text import terminal

app = typer.Typer(
    name="pilotscale",
    help=(
        "Scale a successful pilot to the whole organisation, one department at a time.\n\n"
        "Typical session:\n\n"
        "  pilotscale validate plan.yaml     # check the plan, every problem with its line\n\n"
        "  pilotscale apply plan.yaml        # load it into the store (idempotent)\n\n"
        "  pilotscale status                 # departments x phase x gates\n\n"
        "  pilotscale explain hr             # why is HR held, and what to do"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = terminal(stderr=True, soft_wrap=True)
