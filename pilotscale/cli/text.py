"""Text from plans, the store and people, as the terminal shows it: always text.

A title, a reason or a comment may hold Rich markup (`[/oops]` would end the command
with a MarkupError), emoji codes, or terminal control codes: ESC sequences clear the
screen or set the window title, a carriage return or a bidi override hides what
follows. So every such string reaches the terminal through this module:

- `plain(s)`: control codes made visible as `\\x1b`, `\\u202e`...; newlines kept unless
  `one_line`, where they are shown as `\\n` too (an error is one line);
- `text(s)`: the same as a Rich `Text`, for tables and styled lines (never parsed as
  markup, so it shows exactly as written);
- `json_text(data)`: JSON whose strings keep their exact value, with every control
  character written as a `\\u` escape, which `json.dumps` leaves raw above U+007F;
- `terminal()`: a Rich console that replaces no emoji code and highlights nothing;
- `LogText`: a logging filter that does `plain` to every log line printed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]
from typing import Any

from rich.console import Console
from rich.text import Text

# C0 but tab and newline, DEL, C1 (CSI, OSC, NEL... when 8-bit), the line and paragraph
# separators, and the bidirectional marks, embeddings, overrides and isolates.
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_HIDDEN = re.compile(f"[{_CONTROL}]")
_HIDDEN_OR_NEWLINE = re.compile(f"[{_CONTROL}\n]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _shown(match: re.Match[str]) -> str:
    char = match[0]
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def plain(value: object, *, one_line: bool = False) -> str:
    """`value` as text with every control character visible (`\\x1b`); newlines stay
    line breaks unless `one_line`."""
    return (_HIDDEN_OR_NEWLINE if one_line else _HIDDEN).sub(_shown, str(value))


def text(value: object, style: str = "") -> Text:
    """`value` as a Rich Text: shown exactly as written (control characters visible)."""
    return Text(plain(value), style=style)


def json_text(data: Any, *, one_line_from: int | None = None) -> str:
    """`data` as indented JSON, with every control character escaped (the values are exact).

    `one_line_from`: objects and arrays nested that deep (the top level is 0) are written
    on one line each, as `{"gate": "x", "outcome": "passed"}`, for outputs with thousands
    of small records: `status --json` at 2,000 departments is 11,400 gate objects, which
    indented took 160,000 lines and 0.25 s in `json.dumps` (its indenting encoder is
    pure Python; a line each is C's). Above that depth it is `indent=2`'s layout."""
    if one_line_from is None:
        dumped = json.dumps(data, indent=2, ensure_ascii=False)
    else:
        pieces: list[str] = []
        _layout(data, 0, one_line_from, pieces)
        dumped = "".join(pieces)
    # json.dumps escapes C0 itself: in ASCII text only DEL can be left (a scan in C; the
    # search below took 0.04 s over `status --json` at 2,000 departments).
    if dumped.isascii() and "\x7f" not in dumped:
        return dumped
    # Outside strings json.dumps writes ASCII only, so each match is inside a string,
    # where a \u escape is the same character.
    return _HIDDEN.sub(lambda m: f"\\u{ord(m[0]):04x}", dumped)


# `json.dumps(value, ensure_ascii=False)` made once: each call of `json.dumps` with an
# argument builds an encoder and its C half anew, 3 microseconds that the 45,000 values
# of `status --json` at 2,000 departments paid each (0.17 s in all, against 0.07 s).
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_C_ENCODER = (
    None
    if c_make_encoder is None
    else c_make_encoder(
        {},  # the values being written, to refuse a cycle as json.dumps does
        _ENCODER.default,
        encode_basestring,
        None,
        _ENCODER.key_separator,
        _ENCODER.item_separator,
        False,
        False,
        True,
    )
)


def _dumped(value: Any) -> str:
    """`json.dumps(value, ensure_ascii=False)`."""
    if isinstance(value, str):
        return encode_basestring(value)
    if _C_ENCODER is None:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def _layout(value: Any, depth: int, one_line_from: int, out: list[str]) -> None:
    """`json.dumps(indent=2)`'s pieces down to `one_line_from`, one line below it."""
    if depth >= one_line_from or not isinstance(value, dict | list | tuple) or not value:
        out.append(_dumped(value))
        return
    inner, outer = "\n" + "  " * (depth + 1), "\n" + "  " * depth
    deeper = depth + 1
    if isinstance(value, dict):
        out.append("{")
        for n, (key, item) in enumerate(value.items()):
            out.append(("," if n else "") + inner + _key(key) + ": ")
            _layout(item, deeper, one_line_from, out)
        out.append(outer + "}")
    else:
        out.append("[")
        for n, item in enumerate(value):
            out.append(("," if n else "") + inner)
            _layout(item, deeper, one_line_from, out)
        out.append(outer + "]")


def _key(key: Any) -> str:
    """A key as `json.dumps` writes it (a number or None becomes a string)."""
    if isinstance(key, str):
        return encode_basestring(key)
    return json.dumps({key: 0}, ensure_ascii=False)[1:-4]


def terminal(
    *, stderr: bool = False, piped_width: int | None = None, soft_wrap: bool = False
) -> Console:
    """A console for the CLI: no emoji code replaced (`:x:` stays `:x:`), nothing
    highlighted; `piped_width` columns when the output is not a terminal (CI logs, `| less`)
    instead of Rich's 80."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else piped_width
    # NO_COLOR (no-color.org) asks for plain text: Rich alone drops the colours but keeps
    # bold, italic and underline escapes, so no colour system at all.
    return Console(
        stderr=stderr,
        width=width,
        highlight=False,
        emoji=False,
        soft_wrap=soft_wrap,
        color_system=None if os.environ.get("NO_COLOR") else "auto",
    )


class LogText(logging.Filter):
    """Makes the control characters of a log line visible before a handler prints it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is its emitter's problem
            return True
        shown = plain(message)
        if shown != message:
            record.msg, record.args = shown, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = plain(record.exc_text)
        return True


def guard_log_lines() -> None:
    """Put `LogText` on every handler that prints to the terminal now: the root logger's
    (Prefect's console, once Prefect is imported) and Python's last resort. Idempotent."""
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, LogText) for f in handler.filters):
            handler.addFilter(LogText())
