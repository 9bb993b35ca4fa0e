"""Running the rollout: start, check, rollout, the operator controls, and people's evidence."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from pilotscale.cli.app import app
from pilotscale.cli.errors import CliError, done_with_warnings, one_line_failures
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import json_text, terminal, text
from pilotscale.core.actors import Actor
from pilotscale.core.phases import Event

if TYPE_CHECKING:
    from pilotscale.engine.dry_run import WouldSend

if TYPE_CHECKING:
    from pilotscale.cli.launch import Launched

console = terminal()
err_console = terminal(stderr=True, soft_wrap=True)
T = TypeVar("T")

BY_HELP = (
    "Who you are: your email (or person id) in the plan; recorded with your OS user. "
    "Default: $PILOTSCALE_USER."
)
By = typer.Option(None, "--by", help=BY_HELP, show_default=False)
Reason = typer.Option("", "--reason", help="Why; recorded in the department's history.")
OnBehalfOf = typer.Option(
    None,
    "--on-behalf-of",
    help="A lead entering someone else's action (their email or id); needs --reason.",
    show_default=False,
)
AsJson = typer.Option(
    False, "--json", help="Machine-readable output on stdout (keys in the README)."
)
BehalfReason = typer.Option(
    "", "--reason", help="With --on-behalf-of: why you enter it for them; recorded and shown."
)


def _who(by: str | None) -> str:
    who = by or os.environ.get("PILOTSCALE_USER")
    if not who:
        raise CliError("say who you are: --by EMAIL (or set PILOTSCALE_USER)")
    return who


def _actor(by: str | None, on_behalf_of: str | None, reason: str) -> Actor:
    """`--by` as asserted by the OS user running the command (source 'cli')."""
    from pilotscale.engine.acting import cli_actor

    return cli_actor(_who(by), on_behalf_of=on_behalf_of, reason=reason)


def _guard(action: Callable[[], T]) -> T:
    """Domain refusals become one line and the exit code of their kind."""
    with one_line_failures():
        return action()


def _moment(as_of: str | None, program: str | None) -> datetime | None:
    """--as-of as a moment; None lets the flow take its own clock (wherever it runs)."""
    return parse_as_of(as_of, program=program) if as_of is not None else None


@app.command()
def start(
    department: str = typer.Argument(..., help="Department to start, e.g. hr.", show_default=False),
    by: str | None = By,
    reason: str = Reason,
    force: bool = typer.Option(
        False,
        "--force",
        help="Override wave rules and max_active (never a blackout); needs --reason.",
    ),
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
    as_json: bool = AsJson,
) -> None:
    """Start a department's mini-pilot: onboard its champions, announce it.

    Refused, with the reason, when its wave may not start yet, max_active departments are
    already in flight, it is in a blackout, or the program is paused.

    Example:

      pilotscale start hr --by maria.lopez@acme.example

      pilotscale start sales --by maria.lopez@acme.example --force --reason "CEO request"
    """
    from pilotscale.engine.start import preflight_start

    # A refusal, or a department already started, needs no Prefect run: answer it before
    # importing Prefect (about a second) and starting its API (seconds more).
    already = _guard(
        lambda: preflight_start(
            engine=store_engine(),
            department=department,
            by=_who(by),
            now=parse_as_of(as_of, program=program),
            reason=reason,
            force=force,
            program=program,
        )
    )
    if already is not None:
        _print_started(department, {"started": False, "phase": already, "overridden": []}, as_json)
        return
    from pilotscale.cli.launch import launch, prefect_starting

    params: dict[str, Any] = {
        "department": department,
        "by": _who(by),
        "reason": reason,
        "force": force,
        "program": program,
        "as_of": _moment(as_of, program),
    }
    with prefect_starting() as starting:
        from pilotscale.flows.start_department import start_department_flow

        launched = launch(
            flow_name="start-department",
            program=program,
            parameters=params,
            here=lambda: start_department_flow(**params),
            starting=starting,
        )
    if not launched.ran_here:
        _report_remote(launched, as_json)
        return
    _print_started(department, launched.result, as_json)


def _print_started(department: str, result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(
            json_text(
                {
                    "department": department,
                    "started": result["started"],  # false: it was already started
                    "phase": result["phase"],
                    "overridden": list(result["overridden"]),  # rules --force went past
                }
            )
        )
        return
    verb = "started" if result["started"] else "was already started"
    console.print(text(f"{department} {verb}: now in phase '{result['phase']}'"))
    for item in result["overridden"]:
        console.print(text(f"  forced past: {item}"))


DryRunOpt = typer.Option(
    False,
    "--dry-run",
    help="Show the decisions and the messages it would queue; change nothing, send nothing.",
)
SHOWN_MESSAGES = 25  # a dry run lists this many messages, then counts the rest by event


def _show_would_send(messages: list[WouldSend]) -> None:
    if not messages:
        console.print(text("no message would be queued"))
        return
    by_event = Counter(m.event for m in messages)
    counts = ", ".join(f"{n} {event}" for event, n in sorted(by_event.items()))
    console.print(text(f"would queue {len(messages)} messages ({counts}):"))
    for m in messages[:SHOWN_MESSAGES]:
        console.print(text(f"  {m.event} to {m.recipient} by {m.channel}: {m.subject}"))
    if len(messages) > SHOWN_MESSAGES:
        console.print(text(f"  ... and {len(messages) - SHOWN_MESSAGES} more"))


def _dry_check(program: str | None, as_of: str | None) -> None:
    from pilotscale.engine.check import run_readiness_check
    from pilotscale.engine.dry_run import dry_run

    now = parse_as_of(as_of, program=program)
    shown = _guard(
        lambda: dry_run(
            engine=store_engine(),
            now=now,
            act=lambda bound: run_readiness_check(engine=bound, now=now, program=program),
        )
    )
    report = shown.result
    head = f"dry run, nothing changed: readiness check {report.check_key} would leave"
    console.print(text(f"{head} {report.summary()}"))
    for decision in report.decisions:
        if decision.action.value != "skip":
            console.print(text(f"  {decision.department}: {decision.action.value}"))
    _show_would_send(shown.messages)


@app.command()
def check(
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
    dry_run: bool = DryRunOpt,
    as_json: bool = AsJson,
) -> None:
    """Run a readiness check now (the scheduler does this on its cron schedule).

    Advances departments whose gates all pass, holds the others and tells each gate's
    owner what is missing, blocks after failure_limit consecutive failing checks.

    --dry-run runs the same check in a transaction that is rolled back: it prints the
    decisions and every message it would queue, and leaves the store as it was (no
    Prefect run, no message sent).

    Example:

      pilotscale check

      pilotscale check --dry-run              # what would a check do now?

      pilotscale check --as-of 2026-12-07     # simulate the check of that day
    """
    if dry_run:
        _dry_check(program, as_of)
        return
    from pilotscale.cli.launch import launch, prefect_starting

    params: dict[str, Any] = {"program": program, "as_of": _moment(as_of, program)}
    with prefect_starting() as starting:
        from pilotscale.flows.readiness_check import readiness_check

        launched = launch(
            flow_name="readiness-check",
            program=program,
            parameters=params,
            here=lambda: readiness_check(**params),
            starting=starting,
        )
    if not launched.ran_here:
        _report_remote(launched, as_json)
        return
    result = launched.result
    tally = result["tally"]
    phases = ", ".join(f"{n} {phase}" for phase, n in result["phases"].items()) or "none"
    messages = _messages(result["enqueued"], result["delivery"])
    errors = (result["delivery"] or {}).get("errors", [])
    if as_json:
        print(
            json_text(
                {
                    "check_key": result["check_key"],
                    "tally": tally,  # advance, hold, block, monitor, skip
                    "phases": result["phases"],  # departments in each phase now
                    "messages": messages,  # queued, sent, failed, pending, waiting
                    "decisions": result["decisions"],  # department -> action
                    "warnings": list(result.get("warnings", [])),
                    "delivery_errors": list(errors),
                }
            )
        )
    else:
        _print_check(result, tally, phases, messages)
    if messages["failed"]:
        done_with_warnings(
            [f"{messages['failed']} message(s) not delivered", *errors[:3]],
            "they are retried by the next dispatch; `pilotscale outbox` lists them and "
            "`pilotscale notify test CHANNEL` checks a channel",
        )


def _print_check(
    result: dict[str, Any], tally: dict[str, int], phases: str, messages: dict[str, int]
) -> None:
    from pilotscale.engine.check import check_summary

    console.print(
        text(
            f"readiness check {result['check_key']}: {check_summary(tally)}; "
            f"in each phase now: {phases}; "
            f"messages: {messages['queued']} queued, {messages['sent']} sent, "
            f"{messages['failed']} failed, {messages['pending']} left pending"
            + (
                f" ({messages['waiting']} held for quiet hours or a digest day)"
                if messages["waiting"]
                else ""
            )
        ),
        soft_wrap=True,  # one line a script can read, whatever the width
    )
    for name, action in result["decisions"].items():
        if action != "skip":
            console.print(text(f"  {name}: {action}"))
    for warning in result.get("warnings", []):
        err_console.print(text(f"warning: {warning}"))


def _dry_rollout(by: str, program: str | None, as_of: str | None) -> None:
    from pilotscale.engine.dry_run import dry_run
    from pilotscale.engine.start import rollout_actor, rollout_program

    now = parse_as_of(as_of, program=program)
    engine = store_engine()
    actor = _guard(lambda: rollout_actor(engine=engine, by=by, program=program))
    shown = _guard(
        lambda: dry_run(
            engine=engine,
            now=now,
            act=lambda bound: rollout_program(engine=bound, now=now, actor=actor, program=program),
        )
    )
    started = [s.department for s in shown.result.started]
    console.print(text(f"dry run, nothing changed: would start {', '.join(started) or 'none'}"))
    for name, reasons in shown.result.waiting.items():
        console.print(text(f"  {name} waits: {'; '.join(reasons)}"))
    _show_would_send(shown.messages)


def _messages(queued: int, delivery: dict[str, Any] | None) -> dict[str, int]:
    """What the check queued, what its dispatch sent or failed to send, and what the
    outbox still holds to deliver (due later, to retry, or uncertain) after it."""
    from pilotscale.store.outbox import status_counts

    done = delivery or {}
    failed = sum(int(done.get(key, 0)) for key in ("retrying", "uncertain", "dead"))
    with store_engine().connect() as connection:
        held = status_counts(connection=connection)
    pending = sum(held.get(status, 0) for status in ("pending", "sending", "uncertain"))
    sent = int(done.get("sent", 0))
    # Of `pending`: held for their recipients' quiet hours or digest day, not failed.
    waiting = int(done.get("waiting", 0))
    return {
        "queued": queued,
        "sent": sent,
        "failed": failed,
        "pending": pending,
        "waiting": waiting,
    }


@app.command()
def rollout(
    by: str | None = By,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
    dry_run: bool = DryRunOpt,
    as_json: bool = AsJson,
) -> None:
    """Start every department whose wave may start now (within max_active); never forces.

    --dry-run prints who would start, who waits and why, and the messages it would
    queue; it changes nothing.

    Example:

      pilotscale rollout --by maria.lopez@acme.example

      pilotscale rollout --by maria.lopez@acme.example --dry-run
    """
    if dry_run:
        _dry_rollout(_who(by), program, as_of)
        return
    from pilotscale.cli.launch import launch, prefect_starting
    from pilotscale.engine.start import rollout_actor

    params: dict[str, Any] = {"program": program, "as_of": _moment(as_of, program), "by": _who(by)}
    # Refuse a non-lead before Prefect is even imported (the flow checks again).
    _guard(lambda: rollout_actor(engine=store_engine(), by=params["by"], program=program))
    with prefect_starting() as starting:
        from pilotscale.flows.rollout_program import rollout_program_flow

        launched = launch(
            flow_name="rollout-program",
            program=program,
            parameters=params,
            here=lambda: rollout_program_flow(**params),
            starting=starting,
        )
    if not launched.ran_here:
        _report_remote(launched, as_json)
        return
    result = launched.result
    if as_json:
        print(json_text({"started": list(result["started"]), "waiting": result["waiting"]}))
        return
    console.print(text(f"started: {', '.join(result['started']) or 'none'}"))
    for name, reasons in result["waiting"].items():
        console.print(text(f"  {name} waits: {'; '.join(reasons)}"))


def _report_remote(launched: Launched, as_json: bool) -> None:
    """A run on the Prefect server: its summary line, or with --json the same as
    `{"remote_run": ..., "left_queued": ...}`; exit 5 when it is left queued."""
    if as_json:
        print(
            json_text(
                {"remote_run": launched.remote_summary, "left_queued": bool(launched.left_queued)}
            )
        )
        launched.report_remote(lambda line: None)
        return
    launched.report_remote(lambda line: console.print(text(line)))


def _control(event: Event) -> Callable[..., None]:
    def command(
        department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
        by: str | None = By,
        reason: str = Reason,
        on_behalf_of: str | None = OnBehalfOf,
        program: str | None = ProgramOpt,
        as_of: str | None = AsOf,
    ) -> None:
        from pilotscale.engine import operator

        after = _guard(
            lambda: operator.operate(
                engine=store_engine(),
                department=department,
                event=event,
                actor=_actor(by, on_behalf_of, reason),
                reason=reason,
                now=parse_as_of(as_of, program=program),
                program=program,
            )
        )
        console.print(text(f"{department}: {event.value} recorded; now {after}"))

    return command


_CONTROL_HELP = {
    Event.pause: "Pause a department: readiness checks skip it until it is resumed.",
    Event.resume: "Resume a paused, blocked or rolled-back department.",
    Event.abort: "Stop a department's mini-pilot for good (restart it with rollback).",
}
_ON_BEHALF_EXAMPLE = {
    Event.pause: "\n\n  pilotscale pause hr --by maria.lopez@acme.example --on-behalf-of "
    "jorge.navarro@acme.example --reason 'sponsor asked by phone: works council meeting'",
    Event.resume: "\n\n  pilotscale resume hr --by maria.lopez@acme.example --on-behalf-of "
    "jorge.navarro@acme.example --reason 'sponsor asked by phone: meeting done'",
}
for _event, _help in _CONTROL_HELP.items():
    app.command(
        name=_event.value,
        help=f"{_help}\n\nExample:\n\n  pilotscale {_event.value} hr --by maria.lopez@acme.example "
        f"--reason 'support team on leave'{_ON_BEHALF_EXAMPLE.get(_event, '')}",
    )(_control(_event))


@app.command()
def rollback(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    to: str = typer.Option(..., "--to", help="An earlier phase to return to.", show_default=False),
    by: str | None = By,
    reason: str = Reason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    """Return a department to an earlier phase; it waits there until resumed.

    Nothing already done is re-run: onboarding, training assignments and notifications
    already sent stay as they are. Approvals and attestations of the new visit start fresh.

    Example:

      pilotscale rollback hr --to piloting --by maria.lopez@acme.example --reason "quality drop"
    """
    from pilotscale.engine import operator

    after = _guard(
        lambda: operator.operate(
            engine=store_engine(),
            department=department,
            event=Event.rollback,
            actor=_actor(by, None, reason),
            reason=reason,
            now=parse_as_of(as_of, program=program),
            target=to,
            program=program,
        )
    )
    console.print(text(f"{department}: rolled back; now {after}"))


@app.command()
def approve(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    gate: str = typer.Argument(
        ..., help="Approval gate, e.g. executive-go-ahead.", show_default=False
    ),
    by: str | None = By,
    comment: str = typer.Option("", "--comment", help="Recorded with the approval."),
    on_behalf_of: str | None = OnBehalfOf,
    reason: str = BehalfReason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Approve an approval gate of a department's current phase (its listed approvers only).

    An approver may not approve a phase they moved the department into or attested a gate
    of. The latest decision of each approver counts: approving after rejecting lifts the
    rejection.

    Example:

      pilotscale approve hr executive-go-ahead --by elena.garcia@acme.example --comment "go"

      pilotscale approve hr executive-go-ahead --by maria.lopez --on-behalf-of elena.garcia \
        --reason "approved by phone" --comment "go"
    """
    from pilotscale.engine import operator

    done = _guard(
        lambda: operator.approve(
            engine=store_engine(),
            department=department,
            gate=gate,
            actor=_actor(by, on_behalf_of, reason),
            comment=comment,
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))


@app.command()
def reject(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    gate: str = typer.Argument(
        ..., help="Approval gate, e.g. executive-go-ahead.", show_default=False
    ),
    by: str | None = By,
    comment: str = typer.Option(
        "", "--comment", help="Why (required): shown with the rejection everywhere."
    ),
    on_behalf_of: str | None = OnBehalfOf,
    reason: str = BehalfReason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Reject an approval gate: it holds the department, with your comment, until you approve.

    The program lead is told. Approving later (same approver, same phase) lifts it.

    Example:

      pilotscale reject hr executive-go-ahead --by elena.garcia@acme.example \
        --comment "the works council has not been consulted yet"
    """
    from pilotscale.engine import operator

    done = _guard(
        lambda: operator.reject(
            engine=store_engine(),
            department=department,
            gate=gate,
            actor=_actor(by, on_behalf_of, reason),
            comment=comment,
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))


@app.command()
def attest(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    gate: str = typer.Argument(..., help="Attestation gate, e.g. guardrails.", show_default=False),
    by: str | None = By,
    evidence: str = typer.Option(
        "", "--evidence", help="A link or a sentence; required by most gates."
    ),
    on_behalf_of: str | None = OnBehalfOf,
    reason: str = BehalfReason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Confirm a checklist item (an attestation gate) for a department's current phase.

    Only the gate's owner attests; a lead may enter it for them with --on-behalf-of.

    Example:

      pilotscale attest hr guardrails --by compliance@acme.example --evidence "https://wiki/hr-ai-policy"

      pilotscale attest hr guardrails --by maria.lopez --on-behalf-of compliance \
        --reason "confirmed by phone" --evidence "https://wiki/hr-ai-policy"
    """
    from pilotscale.engine import operator

    done = _guard(
        lambda: operator.attest(
            engine=store_engine(),
            department=department,
            gate=gate,
            actor=_actor(by, on_behalf_of, reason),
            evidence=evidence,
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))


@app.command()
def ack(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    champion: str = typer.Argument(..., help="Champion's email or id.", show_default=False),
    by: str | None = By,
    on_behalf_of: str | None = OnBehalfOf,
    reason: str = BehalfReason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Record that a champion acknowledged the welcome kit and takes the role.

    Only the champion acknowledges; a lead may enter it for them with --on-behalf-of.

    Example:

      pilotscale ack hr ana.ruiz@acme.example --by ana.ruiz@acme.example

      pilotscale ack hr ana.ruiz --by maria.lopez --on-behalf-of ana.ruiz \
        --reason "said yes in the kickoff meeting"
    """
    from pilotscale.engine import operator

    done = _guard(
        lambda: operator.acknowledge(
            engine=store_engine(),
            department=department,
            champion=champion,
            actor=_actor(by, on_behalf_of, reason),
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))


@app.command()
def decline(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    champion: str = typer.Argument(..., help="Champion's email or id.", show_default=False),
    by: str | None = By,
    reason: str = typer.Option(
        "", "--reason", help="Why the role is declined (required); shown to the lead."
    ),
    on_behalf_of: str | None = OnBehalfOf,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Record that a champion declines the role, with the reason.

    Only the champion declines; a lead may enter it for them with --on-behalf-of (the
    reason is then also why the lead entered it).

    Example:

      pilotscale decline hr ana.ruiz@acme.example --by ana.ruiz@acme.example \
        --reason "on leave until March"
    """
    from pilotscale.engine import operator

    done = _guard(
        lambda: operator.decline(
            engine=store_engine(),
            department=department,
            champion=champion,
            actor=_actor(by, on_behalf_of, reason),
            reason=reason,
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))


@app.command()
def barrier(
    department: str = typer.Argument(..., help="Department, e.g. hr.", show_default=False),
    by: str | None = By,
    text_: str = typer.Option(
        "", "--text", help="What is in the way (required).", show_default=False
    ),
    area: str = typer.Option(
        "",
        "--area",
        help="Support area whose owner is told: technical, adoption, content or governance "
        "(default: the program lead).",
    ),
    on_behalf_of: str | None = OnBehalfOf,
    reason: str = BehalfReason,
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
) -> None:
    r"""Report a barrier met in a department; it shows in explain and the report until resolved.

    Example:

      pilotscale barrier hr --by jon.ruiz@acme.example --area content \
        --text "it does not know our leave policy"
    """
    from pilotscale.engine import operator

    done = _guard(
        lambda: operator.report_barrier(
            engine=store_engine(),
            department=department,
            actor=_actor(by, on_behalf_of, reason),
            text=text_,
            area=area,
            now=parse_as_of(as_of, program=program),
            program=program,
        )
    )
    console.print(text(done.message))
