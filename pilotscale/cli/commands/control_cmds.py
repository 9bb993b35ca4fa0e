"""The lead's controls over the whole program and single gates: program pause|resume, waive."""

from __future__ import annotations

from datetime import datetime

import typer

from pilotscale.cli.app import app
from pilotscale.cli.commands.rollout_cmds import By, OnBehalfOf, _actor, _guard
from pilotscale.cli.errors import CliError
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import terminal, text

console = terminal()

program_app = typer.Typer(
    help="Pause or resume the whole program (a lead only; recorded with who and why).",
    rich_markup_mode="rich",
)
app.add_typer(program_app, name="program")

ProgramReason = typer.Option("", "--reason", help="Why; recorded with the program's history.")


def _set_paused(
    paused: bool,
    by: str | None,
    reason: str,
    on_behalf_of: str | None,
    program: str | None,
    as_of: str | None,
) -> None:
    from pilotscale.engine.lead_actions import set_program_paused

    done = _guard(
        lambda: set_program_paused(
            engine=store_engine(),
            paused=paused,
            actor=_actor(by, on_behalf_of, reason),
            reason=reason,
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))


@program_app.command()
def pause(
    by: str | None = By,
    reason: str = ProgramReason,
    on_behalf_of: str | None = OnBehalfOf,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    """Pause the whole program: readiness checks skip every department and nothing starts
    until a lead resumes it.

    Example:

      pilotscale program pause --by maria.lopez@acme.example --reason "vendor incident"
    """
    _set_paused(True, by, reason, on_behalf_of, program, as_of)


@program_app.command()
def resume(
    by: str | None = By,
    reason: str = ProgramReason,
    on_behalf_of: str | None = OnBehalfOf,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    """Resume a paused program: the next readiness check evaluates every department again.

    Example:

      pilotscale program resume --by maria.lopez@acme.example --reason "incident closed"
    """
    _set_paused(False, by, reason, on_behalf_of, program, as_of)


def _until(value: str, program: str | None) -> datetime:
    """--until by the one rule for times without a zone: the program's time zone."""
    try:
        datetime.fromisoformat(value.strip())
    except ValueError:
        raise CliError(
            f"--until '{value}' is not an ISO 8601 date or time; e.g. 2026-12-31"
        ) from None
    return parse_as_of(value, program=program)


@app.command()
def waive(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    gate: str = typer.Argument(
        ..., help="A gate of its current phase, e.g. answer-quality.", show_default=False
    ),
    until: str | None = typer.Option(
        None,
        "--until",
        help=(
            "When the gate counts again (ISO 8601; a date alone is midnight, a time without "
            "a zone local time, in the program's time zone). Required unless --revoke."
        ),
        show_default=False,
    ),
    revoke: bool = typer.Option(
        False,
        "--revoke",
        help="End the gate's waiver in force now: it counts again at once (recorded, in history).",
    ),
    by: str | None = By,
    reason: str = typer.Option("", "--reason", help="Why; recorded, shown and sent."),
    on_behalf_of: str | None = OnBehalfOf,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    """Let a gate count as passing until a date (a lead only). It is still evaluated and
    shown as "waived"; the department's sponsor and the gate's owner are told; from
    --until it holds again if it does not pass. With --revoke, end that waiver now.

    Example:

      pilotscale waive hr answer-quality --until 2026-12-31 --by maria.lopez@acme.example
      --reason "survey tool down until January; usage is strong"

      pilotscale waive hr answer-quality --revoke --by maria.lopez@acme.example
      --reason "the survey tool is back"
    """
    from pilotscale.engine.lead_actions import revoke_waiver
    from pilotscale.engine.lead_actions import waive as waive_gate

    if revoke and until is not None:
        raise CliError("--revoke ends the waiver now: give --until only to waive")
    if not revoke and until is None:
        raise CliError("say until when: --until DATE (or --revoke to end a waiver now)")
    if revoke:
        done = _guard(
            lambda: revoke_waiver(
                engine=store_engine(),
                department=department,
                gate=gate,
                actor=_actor(by, on_behalf_of, reason),
                reason=reason,
                now=parse_as_of(as_of, program=program),
                program=program,
            )
        )
    else:
        ends = until or ""
        done = _guard(
            lambda: waive_gate(
                engine=store_engine(),
                department=department,
                gate=gate,
                actor=_actor(by, on_behalf_of, reason),
                reason=reason,
                until=_until(ends, program),
                now=parse_as_of(as_of, program=program),
                program=program,
            )
        )
    console.print(text(f"{department}: {done.message}"))
