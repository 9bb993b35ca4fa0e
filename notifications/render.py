"""Render notification templates: user overrides first, packaged templates second.

Templates run in a limited sandbox (notifications.sandbox) with StrictUndefined, so a
misspelt variable is an error, not an empty string. `.html` templates are HTML
autoescaped; in `.md` (chat) templates every `{{ value }}` is markdown-escaped and
mentions are neutralised, the same way (`|safe` opts out). Every failure is a
TemplateProblem naming the template file and line.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    select_autoescape,
)
from jinja2.sandbox import SecurityError

from pilotscale.notifications.catalog import CHAT, EMAIL_HTML, EMAIL_TEXT, SUBJECT, template_name
from pilotscale.notifications.filters import FILTERS, md_finalize
from pilotscale.notifications.sandbox import DEFAULT_LIMITS, LimitedSandbox, Limits, budget_scope

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SUBJECT = 200
# Keys the dispatcher adds to every message it sends (pilotscale.engine.message_links).
# A render without them (the subject at enqueue, a preview) is a message without
# links to a person who is not an operator: the templates' own fallback.
SENT_DEFAULTS: Mapping[str, Any] = {
    "links": {},
    "operator": False,
    "program_lead": {"name": "", "email": ""},
}


class TemplateProblem(TemplateError):
    """A template that cannot be loaded or rendered; str() is 'FILE:LINE: message'."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class EmailContent:
    subject: str
    html: str
    text: str


class Renderer:
    """Loads and renders templates from `templates_dir` (if any), then the packaged ones."""

    def __init__(self, templates_dir: Path | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.templates_dir = templates_dir
        self.search_path = [p for p in (templates_dir, PACKAGE_TEMPLATES) if p is not None]
        loader: BaseLoader = ChoiceLoader([FileSystemLoader(str(p)) for p in self.search_path])
        options: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            # Templates are read once per process: checking every file's mtime on every
            # render costs more than rendering (a restarted worker sees changes).
            "auto_reload": False,
            "limits": limits,
        }
        self._text = LimitedSandbox(
            autoescape=select_autoescape(
                enabled_extensions=("html",), default_for_string=False, default=False
            ),
            **options,
        )
        self._chat = LimitedSandbox(autoescape=False, finalize=md_finalize, **options)
        for env in (self._text, self._chat):
            env.filters.update({k: env._guard_filter(k, f) for k, f in FILTERS.items()})
        self.limits = limits
        # Each render may build up to limits.max_built; together they stay within
        # max_built_total, however many threads (the dispatcher's senders) render at once.
        self._in_flight = threading.BoundedSemaphore(limits.renders_at_once)

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render template `name` (e.g. 'gate_held/email.html') with `context`."""
        env = self._chat if name.endswith(".md") else self._text
        template = self._load(env, name)
        context = {**SENT_DEFAULTS, **context}
        chunks: list[str] = []
        size = 0
        try:
            with self._in_flight, budget_scope(self.limits):
                for chunk in template.generate(context):
                    size += len(chunk)
                    if size > self.limits.max_output:
                        raise SecurityError(
                            f"the output is longer than {self.limits.max_output} characters"
                        )
                    chunks.append(chunk)
        except TemplateProblem:
            raise
        except Exception as exc:  # anything a template does wrong must name the file and line
            raise self._problem(exc, template) from None
        return "".join(chunks)

    def subject(self, event: str, context: Mapping[str, Any]) -> str:
        """The one-line subject; line breaks are removed so it can never inject a header."""
        name = template_name(event, SUBJECT)
        line = " ".join(self.render(name, context).split())
        if not line:
            raise TemplateProblem(self.filename(name), 1, "the subject is empty")
        return line if len(line) <= MAX_SUBJECT else line[: MAX_SUBJECT - 1] + "…"

    def email(self, event: str, context: Mapping[str, Any], *, text: bool = True) -> EmailContent:
        """Subject, HTML and (with `text`) the plain-text part. Over SMTP Apprise derives
        the text part from the HTML itself, so a sender may skip rendering it."""
        return EmailContent(
            subject=self.subject(event, context),
            html=self.render(template_name(event, EMAIL_HTML), context),
            text=self.render(template_name(event, EMAIL_TEXT), context).strip() + "\n"
            if text
            else "",
        )

    def chat(self, event: str, context: Mapping[str, Any]) -> str:
        return self.render(template_name(event, CHAT), context).strip()

    def filename(self, name: str) -> str:
        """The file that `name` loads from: the user's override or the packaged one."""
        for root in self.search_path:
            candidate = root / name
            if candidate.is_file():
                return str(candidate)
        return name

    # ------------------------------------------------------------------ errors

    def _load(self, env: LimitedSandbox, name: str) -> Template:
        try:
            return env.get_template(name)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                exc.filename or self.filename(name), exc.lineno, f"syntax error: {exc.message}"
            ) from None
        except TemplateNotFound as exc:
            missing = exc.name if isinstance(exc.name, str) else name
            raise TemplateProblem(
                missing, None, f"template not found in {_listing(self.search_path)}"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateProblem(self.filename(name), None, f"cannot read: {exc}") from None

    def _problem(self, exc: BaseException, template: Template) -> TemplateProblem:
        file, line = template.filename or template.name or "?", None
        roots = tuple(str(p) for p in self.search_path)
        # Jinja rewrites tracebacks so template frames carry the template's file and line;
        # the innermost one is where the template went wrong (it may be an include).
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename.startswith(roots):
                file, line = frame.filename, frame.lineno
        return TemplateProblem(file, line, _describe(exc))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"syntax error: {exc.message}"
    if isinstance(exc, SecurityError):
        return f"not allowed in a template: {exc}"
    if isinstance(exc, UndefinedError):
        return f"undefined: {exc.message}"
    if isinstance(exc, RecursionError):
        return "not allowed in a template: recursion too deep"
    if isinstance(exc, MemoryError):
        return "not allowed in a template: out of memory"
    return f"{type(exc).__name__}: {exc}"


def _listing(paths: list[Path]) -> str:
    return " or ".join(str(p) for p in paths)


@lru_cache(maxsize=8)
def _cached(templates_dir: Path | None, limits: Limits) -> Renderer:
    return Renderer(templates_dir, limits)


def get_renderer(templates_dir: Path | None = None, limits: Limits = DEFAULT_LIMITS) -> Renderer:
    """A shared renderer (compiled templates are cached; changed files are reloaded)."""
    return _cached(templates_dir.resolve() if templates_dir else None, limits)


def configured_limits() -> Limits:
    """The sandbox limits, with the memory budgets from the settings."""
    from pilotscale.settings import get_settings

    settings = get_settings()
    return replace(
        DEFAULT_LIMITS,
        max_built=settings.render_budget_mb * 1_000_000,
        max_built_total=settings.render_budget_total_mb * 1_000_000,
    )


def configured_renderer() -> Renderer:
    """The renderer for the configured PILOTSCALE_TEMPLATES_DIR, if any."""
    from pilotscale.settings import get_settings

    return get_renderer(get_settings().templates_dir, configured_limits())
