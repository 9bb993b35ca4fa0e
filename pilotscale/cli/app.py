"""The `pilotscale` typer application, alone in its module so that the command modules
(pilotscale.cli.commands) can register on it and main can import them: no cycle."""

from __future__ import annotations

import inspect
import os
from typing import Any

import typer
from typer.core import TyperArgument, TyperOption

from pilotscale.cli.text import terminal
from pilotscale.refusal import EXIT_CODES_HELP

app = typer.Typer(
    name="pilotscale",
    help=(
        "Scale a successful pilot to the whole organisation, one department at a time.\n\n"
        "Typical session:\n\n"
        "  pilotscale validate plan.yaml     # check the plan, every problem with its line\n\n"
        "  pilotscale apply plan.yaml        # load it into the store (idempotent)\n\n"
        "  pilotscale status                 # departments x phase x gates\n\n"
        "  pilotscale explain hr             # why is HR held, and what to do\n\n"
        f"{EXIT_CODES_HELP}"
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
    verbose: bool = typer.Option(
        False,
        "--verbose",
        "-v",
        envvar="PILOTSCALE_VERBOSE",
        help="Show the libraries' log lines too (Prefect's runs, Apprise's sends).",
    ),
) -> None:
    """Scale a successful pilot to the whole organisation, one department at a time."""
    library_logs(verbose=verbose)


def library_logs(*, verbose: bool) -> None:
    """Prefect's per-run lines and Apprise's "Sent Mattermost webhook notification" are
    the libraries talking, not the command's answer; what they report that matters (a
    message not delivered, a run failed) the command says itself, in its own words and
    exit code. So they are heard only with --verbose. Set before Prefect is imported
    (it reads PREFECT_LOGGING_LEVEL once); an explicit PREFECT_LOGGING_LEVEL still wins
    either way, and with --verbose Apprise logs at the root logger's level."""
    import logging

    if verbose:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
        logging.getLogger("apprise").setLevel(logging.NOTSET)
    else:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
        logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)


# What a value looks like in --help, as `prefect`, `gh` and click itself write it (TEXT,
# PATH...); typer's own `<str>` and `<bool>` are its Python types, and a flag takes no
# value at all.
_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "path": "PATH", "file": "FILE"}


def _metavar(param: TyperOption | TyperArgument, ctx: Any) -> str | None:
    if getattr(param, "is_flag", False):
        return None
    if param.metavar is not None:
        return param.metavar
    label = param.display_type(ctx).strip("<>")
    return _METAVARS.get(label, label)


TyperOption.display_type_rich = _metavar  # type: ignore[method-assign,assignment]
TyperArgument.display_type_rich = _metavar  # type: ignore[method-assign,assignment]


def reflowed(doc: str) -> str:
    """A docstring's prose paragraphs as one line each, so that --help wraps them to the
    terminal (typer keeps a docstring's own line breaks: ragged at any other width);
    indented paragraphs (examples) keep their lines."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(
        p if p.startswith(" ") or "\n " in p else " ".join(p.split("\n")) for p in paragraphs
    )


def reflow_help(typer_app: typer.Typer) -> None:
    """`reflowed` on the help of every command and group registered on `typer_app`."""
    for command in typer_app.registered_commands:
        doc = command.help or (command.callback.__doc__ if command.callback else None)
        if doc:
            command.help = reflowed(doc)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            reflow_help(group.typer_instance)
