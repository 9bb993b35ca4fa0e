"""The web pages' Jinja2 environment: autoescaping always on (every string from the plan,
the store or a form is text, never markup) and the helpers the templates share."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from pilotscale.core.actors import Source
from pilotscale.core.states import Outcome
from pilotscale.links import department_path

TEMPLATES = Path(__file__).resolve().parent / "templates"
_MARKS = {str(Outcome.passed): "✓", str(Outcome.failed): "✗", str(Outcome.pending): "…"}
# Pages people act from are never cached: by a browser's back button, or by a proxy.
NO_STORE = {"Cache-Control": "no-store"}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _source_label(source: str) -> str:
    """How the actor was known, in words ('signed link'); '' rows predate identities."""
    try:
        return Source(source).label
    except ValueError:
        return source or "CLI"


def render(
    template: str,
    *,
    status_code: int = 200,
    zone: str = "UTC",
    viewer: str | None = None,
    refresh: int | None = None,
    **context: Any,
) -> HTMLResponse:
    page = page_text(template, zone=zone, viewer=viewer, refresh=refresh, **context)
    return HTMLResponse(page, status_code=status_code, headers=NO_STORE)


def page_text(
    template: str,
    *,
    zone: str = "UTC",
    viewer: str | None = None,
    refresh: int | None = None,
    **context: Any,
) -> str:
    """The page `template` renders, with the helpers every template may use."""
    tz = ZoneInfo(zone)

    def local(moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    return (
        environment()
        .get_template(template)
        .render(
            viewer=viewer,
            refresh=refresh,
            local=local,
            mark=lambda outcome: _MARKS.get(str(outcome), ""),
            pct=lambda v: "—" if v is None else f"{v:.0%}",
            dept_url=department_path,
            source_label=_source_label,
            **context,
        )
    )
