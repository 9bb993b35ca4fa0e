"""Keep channel URLs out of logs, errors and the database.

A channel URL carries its credentials (an SMTP password, a webhook token), so only
Apprise's privacy form of it is ever shown. Every raw URL resolved in this process,
and each secret part of it, is registered here; `scrub()` replaces them in any text
before it is stored or printed, and a logging filter does the same for the loggers
that see URLs (Apprise's own DEBUG output prints full webhook URLs, so the `apprise`
and `urllib3` loggers are also kept at INFO or above).
"""

from __future__ import annotations

import logging
import re
import threading
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


def secret_parts(url: str, full: str, masked: str) -> set[str]:
    """The parts of `url` that Apprise hides: in its full form `full` but not in its
    privacy form `masked` (a password, a token). Parts neither form shows (a From
    address, say) are not secrets and stay readable."""
    parts = {url}
    for token in _tokens(full):
        if token not in masked:
            parts.add(token)
    return parts


def all_parts(url: str) -> set[str]:
    """Every part of a URL that Apprise cannot read, since nothing says which is secret."""
    return {url, *_tokens(url)}


def _tokens(url: str) -> set[str]:
    found = set()
    for token in re.split(r"[/:@?&=#+,;\s]+", url):
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
