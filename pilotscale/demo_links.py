"""The demo's approver, who has no CLI: she opens the link in her approval-request email
(written to the local outbox folder), rejects with a reason, and later approves from her
own "my actions" page, over HTTP against the web app the demo serves."""

from __future__ import annotations

import html
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class DemoLinkError(RuntimeError):
    """The story's email or page is not what the demo expects (a bug in the demo)."""


def email_text(outbox: Path, *, to: str, subject_starts: str, mentions: str) -> str:
    """The plain-text part of the newest email in the local outbox folder to `to` whose
    subject starts with `subject_starts` and whose text mentions `mentions` (a link)."""
    found: list[tuple[float, str]] = []
    for path in outbox.glob("*.eml"):
        message: EmailMessage = message_from_bytes(path.read_bytes(), policy=policy.default)
        if to not in str(message["To"]) or not str(message["Subject"]).startswith(subject_starts):
            continue
        body = message.get_body(preferencelist=("plain",))
        if body is not None and mentions in str(body.get_content()):
            found.append((path.stat().st_mtime, str(body.get_content())))
    if not found:
        raise DemoLinkError(f"no email to {to} starting '{subject_starts}' in {outbox}")
    return max(found)[1]


def link_in(text: str, base_url: str, kind: str) -> str:
    """The first link of `kind` ('a/decide', 'me') under `base_url` in `text`."""
    found = re.search(re.escape(base_url.rstrip("/")) + "/" + kind + r"/[A-Za-z0-9_.\-]+", text)
    if found is None:
        raise DemoLinkError(f"no {kind} link in the email")
    return found.group(0)


def confirm(client: httpx.Client, url: str, **fields: str) -> str:
    """Open an action link's page and press its button, as a browser does: the page's
    CSRF token goes back with the form. Returns the result page's main sentence."""
    page = client.get(url)
    page.raise_for_status()
    token = CSRF.search(page.text)
    if token is None:
        raise DemoLinkError(f"the page at {url.split('/a/')[0]} has no form")
    answer = client.post(url, data={"csrf": token.group(1), **fields})
    found = re.search(r"<main[^>]*>.*?<p[^>]*>(.*?)</p>", answer.text, re.S)
    sentence = html.unescape(re.sub(r"<[^>]+>", "", found.group(1) if found else answer.text))
    if answer.status_code != 200:
        raise DemoLinkError(f"refused ({answer.status_code}): {sentence.strip()}")
    return " ".join(sentence.split())


def first_action(
    client: httpx.Client, page_url: str, kind: str = "a/decide", department: str | None = None
) -> str:
    """The first action link of `kind` on a "my actions" page (in `department`'s row)."""
    page = client.get(page_url)
    page.raise_for_status()
    rows = re.findall(r"<tr>.*?</tr>", page.text, flags=re.S)
    for row in rows:
        if department is not None and f'/d/{department}"' not in row:
            continue
        found = re.search(r'href="(/' + kind + r'/[A-Za-z0-9_.\-]+)"', row)
        if found is not None:
            return str(client.base_url).rstrip("/") + found.group(1)
    raise DemoLinkError("no action on the page")
