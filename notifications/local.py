"""Local folder delivery: a custom Apprise schema that writes each message to a file.

Used only when asked for: for unset channels with PILOTSCALE_LOCAL_DELIVERY=true (the
demo, a first try), for messages the plan routes to no channel, and for the copy of the
lead's delivery-failure alert. An email becomes an
`.eml` file with both its HTML and text parts (any mail client opens it), a chat
message an `.md` file, so people can read exactly what would have been sent. The
file name carries the notification id, so sending the same notification again
rewrites the same file instead of adding a duplicate.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from apprise.decorators import notify

SCHEMA = "pilotscale"  # Apprise schemas are letters and digits only
LOCAL_SENDER = "pilotscale <pilotscale@localhost>"


@notify(on=SCHEMA, name="pilotscale local outbox folder")
def _write_file(body: str, title: str, notify_type: str, meta: dict[str, Any], **_: Any) -> bool:
    target = Path(unquote(meta.get("qsd", {}).get("file", "")))
    if not target.is_absolute():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: a reader (or a crash) never sees half a message.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(body.rstrip("\n") + "\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def local_url(path: Path) -> str:
    """The Apprise URL that writes a message to `path` (absolute)."""
    return f"{SCHEMA}://?file={quote(str(path.resolve()), safe='')}"


def file_name(
    *, created_at: datetime, event: str, recipient: str, notification_id: str, suffix: str
) -> str:
    stamp = created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    who = re.sub(r"[^A-Za-z0-9._-]+", "-", recipient).strip("-") or "unknown"
    return f"{stamp}-{event}-{who}-{notification_id[:8]}.{suffix}"


def eml(
    *,
    notification_id: str,
    to_name: str,
    to_address: str,
    subject: str,
    html: str,
    text: str,
    created_at: datetime,
    headers: Mapping[str, str] | None = None,
    reply_to: str | None = None,
) -> str:
    """A complete MIME email: multipart/alternative with the text and HTML parts, and
    the headers a real send would carry."""
    message = EmailMessage()
    message["From"] = LOCAL_SENDER
    message["To"] = formataddr((to_name, to_address)) if to_name else to_address
    if reply_to and reply_to != to_address:
        message["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message["Subject"] = subject
    message["Date"] = format_datetime(created_at.astimezone(UTC))
    message["Message-ID"] = f"<{notification_id}@pilotscale.local>"
    message["X-Notification-Id"] = notification_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message.as_string()


def chat_file(*, notification_id: str, channel: str, to: str, subject: str, body: str) -> str:
    """A chat message as markdown, with a small header saying where it would have gone."""

    def comment(text: str) -> str:
        return " ".join(text.replace("--", "- -").split())

    return (
        f"<!-- X-Notification-Id: {notification_id} -->\n"
        f"<!-- channel: {comment(channel)}; to: {comment(to)} -->\n"
        f"<!-- subject: {comment(subject)} -->\n\n{body}\n"
    )
