"""Send one notification: render it, address it, hand it to a fresh Apprise instance.

Every send carries the notification id where the channel has room for it outside the
text people read, so a receiver can drop a second delivery: the `X-Notification-Id`
header (email, json://, xml://, form://; and `notification_id` in a webhook's payload).
A chat without headers (Mattermost, Slack, ...) gets no id: it is not shown in the
post. The outbox's own guarantees do not depend on it (one row per dedupe key, a
retry only after a failed or uncertain send). Emails also carry Reply-To,
Auto-Submitted and, when nobody has to act on them, List-Unsubscribe
(`notifications.headers`). Apprise only says
whether a send worked; its warnings (captured per thread) say why not, and a failure
that took the whole timeout is "uncertain": the receiver may have the message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import apprise
from apprise.plugins import url_to_dict

from pilotscale.core.messages import Job
from pilotscale.notifications import local
from pilotscale.notifications.catalog import Medium
from pilotscale.notifications.channels import ResolvedChannel
from pilotscale.notifications.headers import email_headers, reply_to
from pilotscale.notifications.render import EmailContent, Renderer, TemplateProblem
from pilotscale.notifications.tls import shared_tls
from pilotscale.redact import install_log_guards, scrub

HEADER = "X-Notification-Id"
EMAIL_SCHEMAS = frozenset({"mailto", "mailtos"})
WEBHOOK_SCHEMAS = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})
MATTERMOST_SCHEMAS = frozenset({"mmost", "mmosts"})
# A failed send that took at least this share of the timeout may have reached the
# receiver before the connection gave up.
UNCERTAIN_SHARE = 0.8


class SendStatus(StrEnum):
    sent = "sent"
    failed = "failed"  # not delivered; retried
    uncertain = "uncertain"  # may have been delivered; retried with the same id


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    # Says what went wrong, never where: the row names the channel, and a URL (even
    # masked) is not stored. Already scrubbed of the channel's secret parts.
    error: str | None = None
    target: str = ""  # where it went: a masked URL or a local file
    local: bool = False  # written to the local folder


def medium_of(job: Job, channel: ResolvedChannel | None) -> Medium:
    if channel is not None:
        return "chat" if channel.kind == "chat" else "email"
    recipient = job.context.get("recipient") or {}
    return "chat" if recipient.get("kind") == "channel" else "email"


def deliver(
    job: Job,
    *,
    channel: ResolvedChannel | None,
    renderer: Renderer,
    outbox_dir: Path,
    timeout: float,
) -> SendResult:
    """Send `job` over `channel`, or to `outbox_dir` when the dispatcher says the local
    folder (no channel, or an unset one with local delivery on)."""
    install_log_guards()
    medium = medium_of(job, channel)
    to_folder = channel is None or channel.url is None
    try:
        content: EmailContent | str = (
            renderer.email(job.event, job.context, text=to_folder)
            if medium == "email"
            else renderer.chat(job.event, job.context)
        )
    except TemplateProblem as problem:
        return SendResult(SendStatus.failed, f"template: {problem}")
    if medium == "chat":
        job = replace(job, subject=chat_title(job, renderer))
    return send(job, content, channel=channel, outbox_dir=outbox_dir, timeout=timeout)


def chat_title(job: Job, renderer: Renderer) -> str:
    """The subject rendered now (rows are queued with a plain one, `engine.enqueue`); a
    subject template that fails leaves the plain one: the chat text carries the message."""
    try:
        return renderer.subject(job.event, job.context)
    except TemplateProblem:
        return job.subject


def send(
    job: Job,
    content: EmailContent | str,
    *,
    channel: ResolvedChannel | None,
    outbox_dir: Path,
    timeout: float,
) -> SendResult:
    """Send rendered `content` (an email, or chat markdown) for `job`."""
    install_log_guards()
    if channel is None or channel.url is None:
        medium: Medium = "email" if isinstance(content, EmailContent) else "chat"
        return _to_folder(job, medium, content, outbox_dir)
    try:
        return _to_channel(job, channel, channel.url, content, timeout)
    except Exception as exc:  # a plugin bug must fail this message, not the batch
        return SendResult(SendStatus.failed, scrub(f"{type(exc).__name__}: {exc}"))


# --------------------------------------------------------------------------- channels


def _to_channel(
    job: Job, channel: ResolvedChannel, url: str, content: EmailContent | str, timeout: float
) -> SendResult:
    results = url_to_dict(url, secure_logging=True)
    if not results:
        return SendResult(SendStatus.failed, "the channel's URL is not one Apprise understands")
    schema = str(results["schema"])
    recipient = job.context.get("recipient") or {}
    results["cto"] = results["rto"] = timeout
    headers = {**(results.get("headers") or {}), HEADER: job.id}
    chat_target: str | None = None
    if isinstance(content, EmailContent):
        results["targets"] = [recipient.get("email")]
        results["headers"] = {**headers, **email_headers(job.event, job.context)}
        answer_to = reply_to(job.context)
        if answer_to:
            results["reply_to"] = answer_to
        body, body_format, title = content.html, apprise.NotifyFormat.HTML, content.subject
    else:
        body, body_format, title = content, apprise.NotifyFormat.MARKDOWN, job.subject
        person = recipient.get("kind") == "person"
        chat_target = recipient.get("chat") if person else None
        if schema in WEBHOOK_SCHEMAS:
            results["headers"] = headers
            extras = {"notification_id": job.id, **({"to": chat_target} if chat_target else {})}
            results["payload"] = {**(results.get("payload") or {}), **extras}
        elif chat_target and schema not in MATTERMOST_SCHEMAS:
            # Other chats have no headers: the id stays out of the text people read.
            results["targets"] = [chat_target]
    plugin = apprise.Apprise.instantiate(results, suppress_exceptions=False)
    if plugin is None:
        return SendResult(SendStatus.failed, "the channel's URL is not usable")
    if chat_target and schema in MATTERMOST_SCHEMAS:
        # A Mattermost webhook posts to a person when its channel is '@name'; Apprise's
        # target parser only accepts channel names, so the target is set directly.
        setattr(plugin, "targets", [("#", chat_target)])  # noqa: B010
    if plugin.title_maxlen <= 0:
        title = ""  # the chat text has its own heading; Apprise would prepend a second
    notifier = apprise.Apprise()  # fresh per message: a shared one throttles each send
    notifier.add(plugin)
    started = time.monotonic()
    verify = bool(getattr(plugin, "verify_certificate", True))
    with _apprise_warnings() as warnings, shared_tls(verify=verify):
        ok = notifier.notify(body=body, title=title, body_format=body_format)
    elapsed = time.monotonic() - started
    if ok:
        return SendResult(SendStatus.sent, target=channel.masked)
    reason = "; ".join(dict.fromkeys(warnings)) or "the channel reported a failure"
    if elapsed >= UNCERTAIN_SHARE * timeout:
        return SendResult(
            SendStatus.uncertain,
            scrub(
                f"no answer within {timeout:g}s ({reason}); it may have "
                "been delivered, so it is retried with the same notification id"
            ),
            channel.masked,
        )
    return SendResult(SendStatus.failed, scrub(reason), channel.masked)


class _ThreadWarnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(scrub(record.getMessage()))


@contextmanager
def _apprise_warnings() -> Iterator[list[str]]:
    """Apprise's warnings and errors logged by this thread while the block runs."""
    handler = _ThreadWarnings()
    logger = logging.getLogger("apprise")
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


# --------------------------------------------------------------------------- local folder


def _to_folder(
    job: Job, medium: Medium, content: EmailContent | str, outbox_dir: Path
) -> SendResult:
    recipient = job.context.get("recipient") or {}
    name = local.file_name(
        created_at=job.created_at,
        event=job.event,
        recipient=job.recipient_key,
        notification_id=job.id,
        suffix="eml" if medium == "email" else "md",
    )
    path = outbox_dir.expanduser().resolve() / name
    if isinstance(content, EmailContent):
        body = local.eml(
            notification_id=job.id,
            to_name=str(recipient.get("name") or ""),
            to_address=str(recipient.get("email") or job.recipient_key),
            subject=content.subject,
            html=content.html,
            text=content.text,
            created_at=job.created_at,
            headers=email_headers(job.event, job.context),
            reply_to=reply_to(job.context),
        )
    else:
        body = local.chat_file(
            notification_id=job.id,
            channel=job.channel,
            to=str(recipient.get("chat") or recipient.get("name") or job.recipient_key),
            subject=job.subject,
            body=content,
        )
    notifier = apprise.Apprise()
    notifier.add(local.local_url(path))
    with _apprise_warnings() as warnings:
        ok = notifier.notify(body=body, title="", body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return SendResult(SendStatus.sent, target=str(path), local=True)
    reason = "; ".join(warnings) or "could not write the file"
    return SendResult(
        SendStatus.failed, f"local folder {path.parent}: {reason}", str(path), local=True
    )
