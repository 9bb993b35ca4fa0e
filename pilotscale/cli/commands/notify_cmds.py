"""`pilotscale outbox`, `dispatch`, `notify test` and `templates check`: the notifications."""

from __future__ import annotations

import socket
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from pilotscale.cli.app import app, err_console
from pilotscale.cli.errors import CliError, refused, unknown_name
from pilotscale.cli.options import AsOf, ProgramOpt, parse_as_of
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import json_text, plain, terminal, text
from pilotscale.core.states import NotificationStatus
from pilotscale.notifications.defaults import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT,
)
from pilotscale.refusal import Exit, Refusal

if TYPE_CHECKING:
    from sqlmodel import Session

    from pilotscale.core.messages import Job
    from pilotscale.models import Notification
    from pilotscale.notifications.channels import ResolvedChannel
    from pilotscale.notifications.render import EmailContent
    from pilotscale.plan.schema import Plan

# Apprise, Jinja, the dispatcher, the outbox, the plan loader, the settings and the store
# (SQLAlchemy) are imported by the commands that use them, so that every other command
# starts fast.

STATUSES = [s.value for s in NotificationStatus]
console = terminal()

outbox_app = typer.Typer(
    help=(
        "The notification outbox: what is queued, sent, uncertain or dead, and why.\n\n"
        "Examples:\n\n"
        "  pilotscale outbox                      # newest 50, every status\n\n"
        "  pilotscale outbox --status dead        # what could not be delivered, with reasons\n\n"
        "  pilotscale outbox --json               # for scripts\n\n"
        "  pilotscale outbox retry 5f0c7a52       # queue one again (id or its first chars)\n\n"
        "  pilotscale outbox retry --dead         # queue every dead message again"
    ),
    rich_markup_mode="rich",
)
notify_app = typer.Typer(help="Check the notification channels.", rich_markup_mode="rich")
templates_app = typer.Typer(help="Check the notification templates.", rich_markup_mode="rich")
app.add_typer(outbox_app, name="outbox")
app.add_typer(notify_app, name="notify")
app.add_typer(templates_app, name="templates")


# --------------------------------------------------------------------------- outbox


@outbox_app.callback(invoke_without_command=True)
def outbox(
    ctx: typer.Context,
    status: list[str] = typer.Option(
        None, "--status", "-s", help=f"Only these statuses ({', '.join(STATUSES)}); repeatable."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    limit: int = typer.Option(50, "--limit", min=1, help="Show at most this many, newest first."),
    as_of: str | None = AsOf,
) -> None:
    """List notifications: pending, sent, uncertain and dead, each with its reason.

    A pending message held for its recipient's quiet hours or digest day says
    "waiting until" the time it goes (--as-of: as seen at that time, in a simulation).
    """
    if ctx.invoked_subcommand is not None:
        return
    for value in status or []:
        if value not in STATUSES:
            raise unknown_name("status", value, STATUSES)
    from sqlmodel import Session

    from pilotscale.store.outbox import list_rows, status_counts

    with Session(store_engine()) as session:
        counts = status_counts(connection=session)
        rows = list_rows(session=session, statuses=status or None, limit=limit)
    if as_json:
        print(json_text([_public(row) for row in rows]))
        return
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES if counts.get(s))
    print(f"outbox: {summary or 'empty'}")
    if not rows:
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("id", "status", "event", "to", "channel", "tries", "when", "reason"):
        table.add_column(column, overflow="fold")
    now = parse_as_of(as_of)
    for row in rows:
        table.add_row(
            text(row.id[:8]),
            text(row.status),
            text(row.event),
            text(row.recipient_key),
            text(row.channel),
            str(row.attempts),
            _when(row, now),
            text(row.last_error or ""),
        )
    console.print(table)


@outbox_app.command("retry")
def outbox_retry(
    notification_id: str | None = typer.Argument(
        None, help="The notification's id, or its first characters.", show_default=False
    ),
    dead: bool = typer.Option(False, "--dead", help="Queue every dead notification again."),
    as_of: str | None = AsOf,
) -> None:
    """Queue notifications again, now, with a fresh number of attempts.

    A sent notification is never sent again, and one being sent is left alone.
    The next `pilotscale dispatch` (or scheduled dispatch) sends them.

    Examples:

      pilotscale outbox retry 5f0c7a52

      pilotscale outbox retry --dead
    """
    if (notification_id is None) == (not dead):
        raise CliError("give a notification id or --dead (not both); see `pilotscale outbox`")
    from sqlmodel import Session

    from pilotscale.store.outbox import retry

    now = parse_as_of(as_of)
    with Session(store_engine()) as session, session.begin():
        if dead:
            count = retry(session=session, dead=True, now=now)
        else:
            row = _one(session, notification_id or "")
            if row.status == NotificationStatus.sent.value:
                raise CliError(
                    f"notification {row.id} was already sent at {_iso(row.sent_at)}; "
                    "it is not sent twice"
                )
            if row.status == NotificationStatus.sending.value:
                raise CliError(
                    f"notification {row.id} is being sent by {row.leased_by} until "
                    f"{_iso(row.lease_until)}; retry it after that if it is not sent"
                )
            count = retry(session=session, ids=[row.id], now=now)
    noun = "notification" if count == 1 else "notifications"
    print(f"queued again: {count} {noun}; `pilotscale dispatch` sends them now")


def _one(session: Session, prefix: str) -> Notification:
    from pilotscale.store.outbox import find

    if len(prefix) < 4:
        raise CliError("give at least the first 4 characters of the notification id")
    found = find(session=session, prefix=prefix)
    if not found:
        raise CliError(
            f"no notification with id '{prefix}'; see `pilotscale outbox`",
            exit_code=Exit.not_found,
        )
    if len(found) > 1:
        raise CliError(f"'{prefix}' matches several notifications; give more of the id")
    return found[0]


# --------------------------------------------------------------------------- dispatch


@app.command("dispatch")
def dispatch_command(
    batch_size: int = typer.Option(DEFAULT_BATCH_SIZE, "--batch-size", min=1),
    concurrency: int = typer.Option(
        DEFAULT_CONCURRENCY, "--concurrency", min=1, help="Messages sent at once."
    ),
    max_attempts: int = typer.Option(
        DEFAULT_MAX_ATTEMPTS, "--max-attempts", min=1, help="Attempts before a message is dead."
    ),
    timeout: float = typer.Option(
        DEFAULT_TIMEOUT, "--timeout", min=0.1, help="Seconds to wait for a channel."
    ),
    as_of: str | None = AsOf,
) -> None:
    """Send every due notification now, in this process (no Prefect server needed).

    A message on a channel whose URL is not set fails and is retried (then dead, with
    an alert to the lead). With PILOTSCALE_LOCAL_DELIVERY=true such messages are
    written to the local folder instead (PILOTSCALE_OUTBOX_DIR, default
    ~/.pilotscale/outbox), as the demo does.

    Example:

      pilotscale dispatch

      pilotscale dispatch --as-of 2026-12-07   # in a simulation
    """
    from pilotscale.engine.dispatcher import dispatch
    from pilotscale.settings import get_settings

    report = dispatch(
        engine=store_engine(),
        now=parse_as_of(as_of) if as_of else None,
        batch_size=batch_size,
        concurrency=concurrency,
        max_attempts=max_attempts,
        timeout=timeout,
    )
    if not report.claimed:
        held = report.waiting_line()
        print(f"nothing to send now; {held}" if held else "nothing to send")
        return
    print(f"dispatched {report.claimed}: {report.summary()}")
    if report.local_files:
        print(f"local folder: {get_settings().resolved_outbox_dir()}")
    for error in report.errors:
        err_console.print(text(f"not delivered: {error}"))


# --------------------------------------------------------------------------- notify test


@notify_app.command("test")
def notify_test(
    channel: str = typer.Argument(..., help="A channel name from the plan.", show_default=False),
    to: str | None = typer.Option(
        None,
        "--to",
        help="Email address (email channels; default: the program lead) or chat address "
        "such as @maria (chat channels; default: the channel itself).",
    ),
    plan_path: Path | None = typer.Option(
        None, "--plan", help="Read the channels from this plan instead of the store."
    ),
    program: str | None = ProgramOpt,
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds to wait."),
) -> None:
    """Send a test message over a channel and say exactly what failed, if anything.

    The channel's URL is read as a real send would (environment variable or Prefect
    Secret block) and shown only masked: user, password, path, option and header
    values are never printed.

    Examples:

      pilotscale notify test email --to you@acme.example

      pilotscale notify test hr-chat

      pilotscale notify test email --plan examples/acme-ai-assistant.yaml
    """
    from pilotscale.notifications.channels import ChannelUnavailable, resolve
    from pilotscale.notifications.delivery import SendStatus, send
    from pilotscale.settings import get_settings

    plan = _plan(plan_path, program)
    spec = next((c for c in plan.channels if c.name == channel), None)
    if spec is None:
        raise unknown_name("channel", channel, [c.name for c in plan.channels])
    try:
        resolved = resolve(spec)
    except ChannelUnavailable as exc:
        raise CliError(f"channel '{channel}': {exc}") from None
    if not resolved.configured:
        # Sends on it fail and are retried; the folder takes them only when asked to.
        fallback = (
            f"; until it is, its messages are written to {get_settings().resolved_outbox_dir()}"
            if get_settings().local_delivery
            else "; its messages fail until it is"
        )
        raise CliError(f"channel '{channel}' is {resolved.masked}{fallback}")
    lead = plan.person(plan.program.lead)
    job, content, target = _test_message(plan, resolved, to or "", lead.email)
    started = time.monotonic()
    result = send(job, content, channel=resolved, outbox_dir=Path("."), timeout=timeout)
    elapsed = time.monotonic() - started
    if result.status is SendStatus.sent:
        print(
            plain(
                f"sent a test message over '{channel}' ({resolved.masked}) to {target} in "
                f"{elapsed:.2f}s; X-Notification-Id {job.id}"
            )
        )
        return
    detail = result.error or "the channel reported a failure"
    hint = _probe(resolved, timeout)
    raise CliError(
        f"test message over '{channel}' ({resolved.masked}) failed: {detail}"
        + (f"; {hint}" if hint else ""),
        exit_code=Exit.failure,
    )


def _plan(plan_path: Path | None, program: str | None) -> Plan:
    from sqlmodel import Session

    from pilotscale.plan.loader import load_plan
    from pilotscale.plan.problems import PlanError
    from pilotscale.store.queries import get_program, load_program_plan

    if plan_path is not None:
        try:
            return load_plan(plan_path).plan
        except PlanError as exc:
            raise CliError(
                f"{plan_path} has {len(exc.problems)} problem(s); run `pilotscale validate`"
            ) from None
    with Session(store_engine()) as session:
        try:
            stored = get_program(session=session, name=program)
        except Refusal as exc:
            raise refused(exc) from None
        return load_program_plan(session=session, program=stored)


def _test_message(
    plan: Plan, channel: ResolvedChannel, to: str, lead_email: str
) -> tuple[Job, EmailContent | str, str]:
    from pilotscale.core.messages import Job
    from pilotscale.models import new_notification_id, utcnow
    from pilotscale.notifications.render import EmailContent

    notification_id = new_notification_id()
    subject = f"pilotscale test message for {plan.program.title}"
    if channel.kind == "email":
        address = to or lead_email
        recipient = {"id": address, "name": "", "email": address, "chat": None, "kind": "person"}
        text = (
            f"This is a test message from pilotscale over the channel '{channel.name}'.\n"
            "If you can read it, email notifications will reach people.\n"
        )
        content: EmailContent | str = EmailContent(
            subject=subject, html=f"<p>{text.replace(chr(10), ' ')}</p>", text=text
        )
    else:
        address = to or f"#{channel.name}"
        kind = "person" if to else "channel"
        recipient = {
            "id": address,
            "name": address,
            "email": None,
            "chat": to or None,
            "kind": kind,
        }
        content = (
            f"**pilotscale test message** over the channel `{channel.name}`: if you can read "
            "it, chat notifications will arrive here."
        )
    job = Job(
        id=notification_id,
        program_id=0,
        event="channel_test",
        recipient_key=address,
        channel=channel.name,
        subject=subject,
        context={"recipient": recipient},
        created_at=utcnow(),
        attempts=1,
    )
    return job, content, address


def _probe(channel: ResolvedChannel, timeout: float) -> str:
    """Why the server cannot be reached, when that is the reason: a TCP connect says."""
    from apprise.plugins import url_to_dict

    from pilotscale.redact import scrub

    details = url_to_dict(channel.url or "", secure_logging=True) or {}
    host = details.get("host")
    if not host or scrub(host) != host:
        return ""  # no host, or a token in the host's place (slack://TOKEN/...)
    port = details.get("port")
    if not port:
        secure = bool(details.get("secure"))
        if str(details.get("schema")).startswith("mailto"):
            port = 465 if secure else 25
        else:
            port = 443 if secure else 80
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return (
                f"{host}:{port} accepts connections, so the server refused or ignored the message"
            )
    except OSError as exc:
        return scrub(f"cannot connect to {host}:{port}: {exc.strerror or type(exc).__name__}")


# --------------------------------------------------------------------------- templates


@templates_app.command("check")
def templates_check(
    directory: Path | None = typer.Option(
        None,
        "--dir",
        help="User templates to check (default: PILOTSCALE_TEMPLATES_DIR, if set).",
    ),
) -> None:
    """Render every notification template with sample data; list every problem.

    A problem reads  FILE:LINE: message . Exit code 0 when all render, 2 otherwise.
    A template that builds more than PILOTSCALE_RENDER_BUDGET_MB (default 8) while
    rendering is a problem too: the dispatcher would refuse it for every message.
    User templates (one folder per event, e.g. gate_held/email.html) override the
    packaged ones file by file.

    Example:

      PILOTSCALE_TEMPLATES_DIR=./templates pilotscale templates check
    """
    from pilotscale.notifications.render import configured_limits, get_renderer
    from pilotscale.notifications.template_check import check_templates
    from pilotscale.settings import get_settings

    folder = directory or get_settings().templates_dir
    renderer = get_renderer(folder, configured_limits())
    problems = check_templates(renderer)
    for problem in problems:
        err_console.print(text(problem))
    if problems:
        err_console.print(f"{len(problems)} template problem(s) found", markup=False)
        raise typer.Exit(code=2)
    where = f" (overrides from {folder})" if folder else ""
    print(
        plain(
            f"templates OK: every event's subject, email and chat rendered with sample data{where}"
        )
    )


# --------------------------------------------------------------------------- helpers


def _public(row: Notification) -> dict[str, Any]:
    data = row.model_dump(mode="json", exclude={"context_json"})
    return data


def _when(row: Notification, now: datetime) -> str:
    from pilotscale.store.outbox import is_waiting

    if is_waiting(row, now):
        # Held for its recipient's quiet hours or digest day: not late, not failed.
        return f"waiting until {_iso(row.next_attempt_at)}"
    if row.status == NotificationStatus.sent.value:
        return f"sent {_iso(row.sent_at)}"
    if row.status == NotificationStatus.sending.value:
        return f"leased until {_iso(row.lease_until)}"
    if row.status == NotificationStatus.dead.value:
        return f"queued {_iso(row.created_at)}"
    return f"next {_iso(row.next_attempt_at)}"


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"
