"""The `pilotscale` typer application, alone in its module so that the command modules
(pilotscale.cli.commands) can register on it and main can import them: no cycle."""

from __future__ import annotations

import os

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
    # `--install-completion` / `--show-completion`: commands, options and departments'
    # names complete as operators expect from `prefect`, `gh` or `kubectl`.
    add_completion=True,
)

err_console = terminal(stderr=True, soft_wrap=True)

if os.environ.get("NO_COLOR"):
    # typer draws --help and usage errors with a console of its own; NO_COLOR means no
    # bold or italic escapes there either. (Imported only here: it loads Rich's Markdown
    # and syntax highlighting, which a command's own output never needs.)
    import typer.rich_utils

    typer.rich_utils.COLOR_SYSTEM = None


def installed_version(distribution: str) -> str:
    """The installed version, read from the package metadata (no import of the package:
    `--version` must not pay for Prefect's start-up)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(
            f"pilotscale {installed_version('pilotscale')} (prefect {installed_version('prefect')})"
        )
        raise typer.Exit()


@app.callback()
def _options(
    show_version: bool = typer.Option(
        False,
        "--version",
        help="Print pilotscale's and Prefect's versions and exit.",
        callback=_print_version,
        is_eager=True,
    ),
) -> None:
    """Scale a successful pilot to the whole organisation, one department at a time."""
