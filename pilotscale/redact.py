"""Keep channel URLs out of logs, errors and the database.

A channel URL carries its credentials (an SMTP password, a webhook token, an API key
in a header), so only its masked form is ever shown (`masked_url`: every part that
can hold a secret is masked, whatever the plugin would hide). Every raw URL resolved
in this process, and each secret part of it, is registered here; `scrub()` replaces them in any text
before it is stored or printed, and a logging filter does the same for the loggers
that see URLs (Apprise's own DEBUG output prints full webhook URLs, so the `apprise`
and `urllib3` loggers are also kept at INFO or above).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from urllib.parse import unquote

MASK = "****"
MIN_SECRET = 4  # shorter parts ("443", "api") are not secrets and would garble text
URL_LOGGERS = ("apprise", "urllib3", "urllib3.connectionpool", "requests")

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()
_installed = False


def register(*values: str) -> None:
    """Remember `values` as secrets for every later scrub in this process."""
    global _ordered
    fresh = {v for v in values if v and len(v) >= MIN_SECRET}
    fresh |= {unquote(v) for v in fresh}
    with _lock:
        if fresh <= _secrets:
            return
        _secrets.update(fresh)
        # Longest first, so a URL is replaced whole before its parts are.
        _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by ****."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def masked_url(
    url: str, *, host_is_secret: bool, public: Callable[[str, str], bool] = lambda k, v: False
) -> tuple[str, set[str]]:
    """The form of channel URL `url` that may be shown, and its secret parts.

    Judged by position, not by what a plugin chooses to hide: user, password, every
    path segment, every query value (Apprise's `+Header=` values included) and any
    fragment are secrets; so is the host where a scheme puts a token there
    (`slack://TOKEN_A/...`, `discord://WEBHOOK_ID/...`). What stays readable is the
    scheme, a real host and port, and the option and header names. An option value
    for which `public(name, value)` holds (`method=POST`) is masked but not returned
    as a secret: scrubbing such a word from every log line would garble them.
    """
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://(.*)", url, re.DOTALL)
    if match is None:
        return MASK, {url, *_tokens(url)}
    schema, rest = match.groups()
    rest, hashmark, fragment = rest.partition("#")
    rest, question, query = rest.partition("?")
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    secrets = {url, fragment}
    shown = f"{schema}://"
    if at:
        user, colon, password = userinfo.partition(":")
        secrets |= {user, password}
        shown += MASK + (f":{MASK}" if colon else "") + "@"
    if host_is_secret and host:
        secrets |= {host, *_tokens(host)}
        host = MASK
    shown += host
    if slash:
        segments = path.split("/")
        secrets.update(segments)
        shown += "/" + "/".join(MASK if s else "" for s in segments)
    if question:
        options = []
        for pair in query.split("&"):
            key, equals, value = pair.partition("=")
            if not public(key, value):
                # A header such as `Bearer%20TOKEN` may be echoed decoded, or in parts.
                decoded = unquote(value.replace("+", " "))
                secrets |= {value, decoded, *re.split(r"[\s,]+", decoded)}
            options.append(f"{key}={MASK}" if equals else key)
        shown += "?" + "&".join(options)
    if hashmark:
        shown += f"#{MASK}"
    return shown, secrets


def _tokens(text: str) -> set[str]:
    found = set()
    for token in re.split(r"[/:@?&=#+,;\s]+", text):
        for candidate in (token, unquote(token)):
            if len(candidate) >= MIN_SECRET:
                found.add(candidate)
    return found


class ScrubFilter(logging.Filter):
    """Rewrites a log record whose message contains a registered secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _ordered:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the emitter's problem, not a leak
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def install_log_guards() -> None:
    """Idempotent: INFO floor and the scrub filter on every logger that may see a URL."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    scrubber = ScrubFilter()
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)
        logger.addFilter(scrubber)
