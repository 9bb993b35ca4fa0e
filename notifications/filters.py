"""Template filters: markdown escaping for chat, safe links, and readable numbers and dates."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from markupsafe import Markup

# What chat markdown (Mattermost, Slack, Teams) gives meaning to, inline.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()#<>~|])")
# A zero-width space after every '@' stops @channel, @here, @all and @person mentions
# (the reader still sees '@'); a backslash does not stop them in every chat.
_ZERO_WIDTH_SPACE = "\u200b"
_SAFE_SCHEMES = ("http", "https", "mailto")


def md(value: Any) -> Markup:
    """`value` as literal text inside chat markdown: no formatting, links or mentions.

    Returns Markup so that the chat environment's automatic escaping leaves it alone.
    """
    if value is None:
        return Markup("")
    if isinstance(value, Markup):
        return value
    text = " ".join(str(value).splitlines())  # a value never starts a heading or a list
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = text.replace("@", "@" + _ZERO_WIDTH_SPACE)
    return Markup(text)  # noqa: S704 - escaped above; Markup marks it done


def md_finalize(value: Any) -> Any:
    """Every `{{ value }}` in a chat template is escaped unless it is Markup already."""
    if isinstance(value, Markup):
        return value
    return md(value)


def safe_url(value: Any) -> Markup:
    """An http(s) or mailto link, or '' for anything else (javascript:, data:, ...).

    Characters that would end a markdown link or an HTML attribute are percent-encoded,
    so the result can be placed in either without further escaping.
    """
    if value is None:
        return Markup("")
    url = str(value).strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return Markup("")
    if scheme not in _SAFE_SCHEMES:
        return Markup("")
    return Markup(quote(url, safe="/:?#[]@!$&*+,;=%~-._"))  # noqa: S704 - encoded


def code(value: Any) -> Markup:
    """`value` as an inline code span in chat markdown (a command to copy).

    Backticks and line breaks are removed so that no value can end the span early.
    """
    text = " ".join(str(value if value is not None else "").replace("`", "").splitlines())
    return Markup(f"`{text}`")  # noqa: S704 - code spans are literal


def number(value: Any, digits: int = 0) -> str:
    """4000 -> '4,000'; 1234.5 with digits=1 -> '1,234.5'; None -> 'n/a'."""
    if value is None or value == "":
        return "n/a"
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    digits = max(0, min(int(digits), 6))
    return f"{as_float:,.{digits}f}"


def percent(value: Any, digits: int = 0) -> str:
    """0.634 -> '63%'; None -> 'n/a'."""
    if value is None or value == "":
        return "n/a"
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return str(value)
    digits = max(0, min(int(digits), 3))
    return f"{as_float * 100:.{digits}f}%"


def amount(value: Any, unit: str | None = "") -> str:
    """A figure with its unit: (1240, 'hours') -> '1,240 hours'; (0.63, 'fraction') -> '63%'."""
    if value is None or value == "":
        return "n/a"
    if unit == "fraction":
        return percent(value)
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        return f"{value} {unit}".strip()
    digits = 0 if as_float.is_integer() or abs(as_float) >= 100 else 1
    return f"{number(as_float, digits)} {unit or ''}".strip()


def day(value: Any) -> str:
    """An ISO date or datetime as 'Mon 23 Nov 2026'; anything else as it is."""
    if value is None or value == "":
        return "n/a"
    if isinstance(value, datetime | date):
        parsed: date = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            try:
                parsed = date.fromisoformat(str(value))
            except ValueError:
                return str(value)
    return parsed.strftime("%a %d %b %Y")


FILTERS: dict[str, Callable[..., Any]] = {
    "md": md,
    "code": code,
    "url": safe_url,
    "number": number,
    "percent": percent,
    "amount": amount,
    "day": day,
}
