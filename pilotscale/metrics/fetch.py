"""Reading a metric from its source in the plan: an HTTP JSON endpoint or a SQL query.

What a source returns, either way, is a set of observations for departments:

- HTTP: the JSON value at `value_path` (dotted, list indices allowed; '' or '$' is the
  whole document) is either a number — then the URL must contain `{department}` and is
  fetched once per department —, an object mapping department names to numbers, or a
  list of records with `department`, `value` and optionally `observed_at`, `segment`
  and `person` (the columns of `pilotscale metrics import`).
- SQL: the query returns rows with a `value` column and optionally `observed_at`,
  `segment` and `person`; with a `:department` parameter it runs once per department,
  otherwise each row needs a `department` column.

A value without `observed_at` is observed at the moment of the pull. Transient
failures (connection errors, timeouts, HTTP 5xx/429, database operational errors)
are retried; anything else fails at once. Failures are SourceErrors whose message
never holds a secret (header values, database passwords): their gates stay pending.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_chain,
    wait_fixed,
    wait_none,
)

from pilotscale.metrics.timeparse import parse_moment
from pilotscale.plan.schema import HttpSource, SqlSource
from pilotscale.redact import ScrubFilter, register, scrub
from pilotscale.secrets import SecretLoader, SecretUnreadable, load_prefect_secret, read_ref

for _name in ("httpx", "httpcore", "sqlalchemy.engine"):
    logging.getLogger(_name).addFilter(ScrubFilter())

Sleep = Callable[[float], None]
DEFAULT_BACKOFF: tuple[float, ...] = (0.5, 2.0)  # waits between the 3 attempts


class SourceError(RuntimeError):
    """A metric source could not be read; the message is safe to show and store."""

    def __init__(self, message: str) -> None:
        super().__init__(scrub(message))


@dataclass(frozen=True)
class SourcedValue:
    department: str
    value: float
    observed_at: datetime
    segment: str = ""
    person: str = ""


@dataclass(frozen=True)
class PullContext:
    """What every pull needs besides the source: who to pull for, when, how to retry."""

    departments: Sequence[str]
    now: datetime
    timezone: ZoneInfo
    environ: Mapping[str, str] | None = None
    secret_loader: SecretLoader | None = None
    backoff: Sequence[float] = DEFAULT_BACKOFF
    sleep: Sleep = time.sleep


# --------------------------------------------------------------------------- HTTP


def fetch_http(source: HttpSource, ctx: PullContext) -> list[SourcedValue]:
    headers = _headers(source.headers_ref, ctx) if source.headers_ref else {}
    timeout = source.timeout.total_seconds()
    per_department = "{department}" in source.url
    out: list[SourcedValue] = []
    with httpx.Client(timeout=timeout, headers=headers, follow_redirects=True) as client:
        targets: Iterable[str | None] = ctx.departments if per_department else [None]
        for department in targets:
            url = source.url.replace("{department}", quote(department or "", safe=""))
            document = _get_json(client, url, ctx)
            found = _at_path(document, source.value_path, url)
            out += _interpret(found, department, ctx, where=f"{_shown(url)} {source.value_path}")
    return out


def _get_json(client: httpx.Client, url: str, ctx: PullContext) -> Any:
    shown = _shown(url)

    def attempt() -> Any:
        try:
            response = client.get(url)
        except httpx.TimeoutException:
            raise _Transient(f"no answer from {shown} within the timeout") from None
        except httpx.TransportError as exc:
            raise _Transient(f"cannot reach {shown}: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _Transient(f"HTTP {response.status_code} from {shown}")
        if response.status_code >= 400:
            raise SourceError(f"HTTP {response.status_code} from {shown}")
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise SourceError(f"{shown} did not answer with JSON") from None

    return _retrying(attempt, ctx)


def _headers(ref: str, ctx: PullContext) -> dict[str, str]:
    """Headers from a secret: a JSON object, or 'Name: value' lines."""
    raw = _resolve(ref, ctx)
    headers: dict[str, str] = {}
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        headers = {str(k): str(v) for k, v in parsed.items()}
    else:
        for line in raw.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip():
                headers[name.strip()] = value.strip()
    if not headers:
        raise SourceError(f"the headers in {ref} are neither a JSON object nor 'Name: value' lines")
    register(*headers.values(), *(v.split()[-1] for v in headers.values() if v.split()))
    return headers


def _at_path(document: Any, path: str, url: str) -> Any:
    value = document
    if path.strip() in ("", "$"):
        return value
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise SourceError(f"{_shown(url)} has no '{path}' in its JSON (missing '{part}')")
    return value


def _interpret(
    found: Any, department: str | None, ctx: PullContext, *, where: str
) -> list[SourcedValue]:
    if isinstance(found, (int, float)) and not isinstance(found, bool):
        if department is None:
            raise SourceError(
                f"{where} is a single number: put {{department}} in the URL so that each "
                "department is fetched on its own, or return one value per department"
            )
        return [SourcedValue(department, _finite(found, where), ctx.now)]
    if isinstance(found, Mapping):
        return [
            SourcedValue(str(name), _finite(value, where), ctx.now)
            for name, value in found.items()
            if department is None or name == department
        ]
    if isinstance(found, list):
        return [_record(item, department, ctx, where) for item in found]
    raise SourceError(f"{where} is neither a number, an object nor a list")


# --------------------------------------------------------------------------- SQL


def fetch_sql(source: SqlSource, ctx: PullContext) -> list[SourcedValue]:
    raw_url = _resolve(source.connection, ctx)
    try:
        url = make_url(raw_url)
    except ArgumentError:
        raise SourceError(f"{source.connection} does not hold a database URL") from None
    if url.password:
        register(str(url.password))
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    timeout = source.timeout.total_seconds()
    engine = create_engine(url, poolclass=NullPool, connect_args=_connect_args(url, timeout))
    # Named by its reference, not its URL: the URL is the secret (and is masked anyway).
    shown = f"{source.connection} ({url.get_backend_name()})"
    per_department = ":department" in source.query
    statement = text(source.query)

    def attempt() -> list[SourcedValue]:
        out: list[SourcedValue] = []
        try:
            with engine.connect() as connection:
                targets: Iterable[str | None] = ctx.departments if per_department else [None]
                for department in targets:
                    params = {"department": department} if per_department else {}
                    result = connection.execute(statement, params)
                    for row in result.mappings():
                        out.append(
                            _record(dict(row), department, ctx, where=f"the query on {shown}")
                        )
        except OperationalError as exc:
            raise _Transient(f"{shown}: {_db_error(exc)}") from None
        except (DBAPIError, SQLAlchemyError) as exc:
            raise SourceError(f"{shown}: {_db_error(exc)}") from None
        return out

    try:
        return _retrying(attempt, ctx)
    finally:
        engine.dispose()


def _connect_args(url: Any, timeout: float) -> dict[str, Any]:
    if url.get_backend_name() == "sqlite":
        return {"timeout": timeout}
    if url.get_backend_name() == "postgresql":
        # The query timeout too, so a slow report query cannot stall the readiness check.
        return {
            "connect_timeout": max(1, int(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        }
    return {}


def _db_error(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None) or exc
    first = str(original).strip().splitlines()[0] if str(original).strip() else ""
    return f"{type(original).__name__}: {first}"[:300]


# --------------------------------------------------------------------------- shared


class _Transient(SourceError):
    """Worth another attempt."""


def _retrying(attempt: Callable[[], Any], ctx: PullContext) -> Any:
    """`attempt()`, tried again after each wait of `ctx.backoff` while it fails transiently;
    any other failure ends it at once."""
    waits = [wait_fixed(seconds) for seconds in ctx.backoff]
    tries = len(waits) + 1
    retrying = Retrying(
        retry=retry_if_exception_type(_Transient),
        stop=stop_after_attempt(tries),
        wait=wait_chain(*waits) if waits else wait_none(),
        sleep=ctx.sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except _Transient as exc:
        raise SourceError(f"{exc} (after {tries} attempts)") from None


def _resolve(ref: str, ctx: PullContext) -> str:
    """The value behind `ref`, registered as a secret. Missing is an error here, not "not
    configured": a source that cannot connect must hold its gates, not be skipped."""
    try:
        found = read_ref(
            ref, environ=ctx.environ, secret_loader=ctx.secret_loader or load_prefect_secret
        )
    except SecretUnreadable as exc:
        raise SourceError(str(exc)) from None
    if not found.value:
        absent = "is not set" if found.in_environment else "does not exist"
        raise SourceError(f"{found.where} {absent}")
    register(found.value)
    return found.value


def _record(item: Any, department: str | None, ctx: PullContext, where: str) -> SourcedValue:
    if not isinstance(item, Mapping):
        raise SourceError(f"{where}: expected records with 'department' and 'value'")
    fields = {str(k).lower(): v for k, v in item.items()}
    name = department if department is not None else fields.get("department")
    if not name:
        raise SourceError(f"{where}: a record has no 'department'")
    if "value" not in fields:
        raise SourceError(f"{where}: a record has no 'value'")
    at = fields.get("observed_at")
    try:
        observed = parse_moment(at, ctx.timezone) if at not in (None, "") else ctx.now
    except ValueError as exc:
        raise SourceError(f"{where}: observed_at {exc}") from None
    return SourcedValue(
        department=str(name),
        value=_finite(fields["value"], where),
        observed_at=observed,
        segment=str(fields.get("segment") or ""),
        person=str(fields.get("person") or ""),
    )


def _finite(value: Any, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SourceError(f"{where}: '{str(value)[:40]}' is not a number") from None
    if isinstance(value, bool) or not math.isfinite(number):
        raise SourceError(f"{where}: '{value}' is not a finite number")
    return number


def _shown(url: str) -> str:
    """The URL as it may appear in a message: no credentials, no query string."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
