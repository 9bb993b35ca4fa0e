"""Validating imported rows against the plan: observations, training completions, champion
acknowledgements. No database here: the store module writes what this module accepted.

Every problem names the row and column (`FILE:ROW: column: message`) and, for an
unknown name, the closest known one. An import writes nothing unless every row is
valid, so a file is fixed and imported again rather than half-applied.

Numbers and moments have a domain: a value must lie in its metric's range
(`pilotscale.plan.domains`), and a moment within a day after the import's moment and
ten years before it (`timeparse.implausible`).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pilotscale.metrics.reader import Record
from pilotscale.metrics.timeparse import implausible, parse_moment
from pilotscale.plan.domains import Domain, domains
from pilotscale.plan.problems import printable
from pilotscale.plan.schema import Plan, Segment

Kind = Literal["observations", "training", "acks"]
KINDS: tuple[str, ...] = ("observations", "training", "acks")

# Columns by kind: required first, then optional. `person` of an observation is an opaque
# key (a pseudonymous user id is fine): it only keeps per-person samples apart.
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "observations": (("department", "metric", "value", "observed_at"), ("segment", "person")),
    "training": (("person", "module", "completed_at"), ("department",)),
    "acks": (("department", "champion", "acknowledged_at"), ()),
}
MAX_KEY = 200
# Observations are per trainee segment; `none` (not a trainee) has no usage of its own.
SEGMENTS = tuple(s.value for s in Segment if s is not Segment.none)


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str
    message: str

    def render(self, file: str) -> str:
        where = f"{file}:{self.row}:"
        # A value quoted in the message may hold a line break: one problem, one line.
        column, message = printable(self.column), printable(self.message)
        return f"{where} {column}: {message}" if column else f"{where} {message}"


@dataclass(frozen=True)
class ObservationRow:
    department: str
    metric: str
    value: float
    observed_at: datetime
    segment: str = ""
    person: str = ""


@dataclass(frozen=True)
class CompletionRow:
    person: str  # the plan's person id
    module: str
    completed_at: datetime


@dataclass(frozen=True)
class AckRow:
    department: str
    champion: str  # the plan's person id
    acknowledged_at: datetime


Row = ObservationRow | CompletionRow | AckRow


class Catalog:
    """The names an import may use, from the plan, and the moment it is made at."""

    def __init__(
        self,
        plan: Plan,
        departments: Iterable[str] | None = None,
        *,
        as_of: datetime | None = None,
    ) -> None:
        self.timezone = ZoneInfo(plan.program.timezone)
        self.as_of = as_of or datetime.now(UTC)
        self.departments = sorted(departments or (d.name for d in plan.departments))
        self.metrics = sorted({m.name for m in plan.metrics} | {k.name for k in plan.program.kpis})
        self.domains: dict[str, Domain] = domains(plan, self.metrics)
        self.people = {p.id: p.id for p in plan.people}
        self.people.update({p.email.lower(): p.id for p in plan.people})
        self.department_of = {p.id: p.department for p in plan.people}
        self.champions = {d.name: list(d.champions) for d in plan.departments}
        self.modules: dict[str, set[str]] = {}  # tracked module id -> departments offering it
        self.self_service: set[str] = set()
        for d in plan.departments:
            for module in [*d.training.power, *d.training.casual]:
                self.modules.setdefault(module.id, set()).add(d.name)
            self.self_service.update(m.id for m in d.training.self_service)

    def person(self, value: str) -> str | None:
        return self.people.get(value) or self.people.get(value.lower())


def check_header(kind: str, header: Sequence[str] | None) -> list[RowProblem]:
    """Problems with a CSV header: missing required columns, unknown columns."""
    if header is None:
        return []
    required, optional = COLUMNS[kind]
    known = (*required, *optional)
    problems = [
        RowProblem(
            1, column, f"unknown column{_suggest(column, known)} (columns: {', '.join(known)})"
        )
        for column in header
        if column not in known
    ]
    problems += [
        RowProblem(1, column, f"required column is missing (header: {', '.join(header)})")
        for column in required
        if column not in header
    ]
    return problems


def validate(
    kind: str, records: Iterable[Record], catalog: Catalog, *, header_checked: bool = False
) -> Iterator[Row | list[RowProblem]]:
    """Each record as a valid row, or the list of its problems.

    With `header_checked` (CSV), unknown columns were reported once for the header and
    are not reported again on every row.
    """
    check = _CHECKERS[kind]
    known = set(COLUMNS[kind][0]) | set(COLUMNS[kind][1])
    for record in records:
        if record.problem:
            yield [RowProblem(record.row, "", record.problem)]
            continue
        problems: list[RowProblem] = []
        if not header_checked:
            problems += [
                RowProblem(
                    record.row,
                    key,
                    f"unknown field{_suggest(key, known)} (fields: {', '.join(sorted(known))})",
                )
                for key in record.fields
                if key not in known
            ]
        row = check(record, catalog, problems)
        yield problems if problems or row is None else row


# --------------------------------------------------------------------------- per kind


def _observation(record: Record, catalog: Catalog, problems: list[RowProblem]) -> Row | None:
    f = _Fields(record, problems)
    department = f.name("department", catalog.departments, "department")
    metric = f.name("metric", catalog.metrics, "metric")
    value = f.number("value")
    if metric is not None and value is not None:
        outside = catalog.domains[metric].problem(metric, value)
        if outside:
            f.problem("value", outside)
            value = None
    at = f.moment("observed_at", catalog)
    segment = f.text("segment", required=False).lower()
    if segment and segment not in SEGMENTS:
        f.problem(
            "segment",
            f"'{segment}' is not a segment; use {' or '.join(SEGMENTS)} or leave it empty",
        )
    person = f.text("person", required=False)
    if problems or department is None or metric is None or value is None or at is None:
        return None
    return ObservationRow(department, metric, value, at, segment, person)


def _completion(record: Record, catalog: Catalog, problems: list[RowProblem]) -> Row | None:
    f = _Fields(record, problems)
    person = f.person("person", catalog)
    module = f.text("module")
    at = f.moment("completed_at", catalog)
    if module and module not in catalog.modules:
        if module in catalog.self_service:
            f.problem("module", f"'{module}' is self-service material, which is not tracked")
        else:
            f.problem(
                "module",
                f"unknown training module '{module}'{_suggest(module, list(catalog.modules))}",
            )
    elif module and person:
        home = catalog.department_of.get(person)
        offered = catalog.modules[module]
        if home and home not in offered:
            f.problem(
                "module",
                f"'{module}' is not in {home}'s training plan (it is in "
                f"{', '.join(sorted(offered))}'s)",
            )
    if problems or person is None or at is None:
        return None
    return CompletionRow(person, module, at)


def _ack(record: Record, catalog: Catalog, problems: list[RowProblem]) -> Row | None:
    f = _Fields(record, problems)
    department = f.name("department", catalog.departments, "department")
    champion = f.person("champion", catalog)
    at = f.moment("acknowledged_at", catalog)
    if department and champion and champion not in catalog.champions.get(department, []):
        known = catalog.champions.get(department, [])
        f.problem(
            "champion",
            f"'{champion}' is not a champion of {department}"
            f"{_suggest(champion, known)} (champions: {', '.join(known) or 'none'})",
        )
    if problems or department is None or champion is None or at is None:
        return None
    return AckRow(department, champion, at)


_CHECKERS: dict[str, Callable[[Record, Catalog, list[RowProblem]], Row | None]] = {
    "observations": _observation,
    "training": _completion,
    "acks": _ack,
}


class _Fields:
    """Typed access to one record's fields, collecting problems instead of raising."""

    def __init__(self, record: Record, problems: list[RowProblem]) -> None:
        self.record = record
        self.problems = problems

    def problem(self, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.record.row, column, message))

    def text(self, column: str, *, required: bool = True) -> str:
        raw = self.record.fields.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if required:
                self.problem(column, "missing value")
            return ""
        if isinstance(raw, (dict, list, bool)):
            self.problem(column, f"expected text, found {type(raw).__name__}")
            return ""
        text = str(raw).strip()
        if len(text) > MAX_KEY:
            self.problem(column, f"longer than {MAX_KEY} characters")
            return ""
        return text

    def name(self, column: str, known: Sequence[str], kind: str) -> str | None:
        value = self.text(column)
        if not value:
            return None
        if value not in known:
            listing = ", ".join(known[:12]) or "none"
            self.problem(
                column, f"unknown {kind} '{value}'{_suggest(value, known)} (known: {listing})"
            )
            return None
        return value

    def person(self, column: str, catalog: Catalog) -> str | None:
        value = self.text(column)
        if not value:
            return None
        found = catalog.person(value)
        if found is None:
            self.problem(
                column,
                f"unknown person '{value}'{_suggest(value.lower(), list(catalog.people))}: "
                "use a person id or email from the plan",
            )
        return found

    def number(self, column: str) -> float | None:
        raw = self.record.fields.get(column)
        if isinstance(raw, bool):
            self.problem(column, "expected a number, found true/false")
            return None
        if isinstance(raw, (int, float)):
            value = float(raw)
        else:
            text = self.text(column)
            if not text:
                return None
            try:
                value = float(text)
            except ValueError:
                self.problem(column, f"'{text}' is not a number (use '.' for decimals, e.g. 0.62)")
                return None
        if not math.isfinite(value):
            self.problem(column, "must be a finite number")
            return None
        return value

    def moment(self, column: str, catalog: Catalog) -> datetime | None:
        raw: Any = self.record.fields.get(column)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.problem(column, "missing value")
            return None
        try:
            moment = parse_moment(raw, catalog.timezone)
        except ValueError as exc:
            self.problem(column, str(exc))
            return None
        why = implausible(moment, catalog.as_of)
        if why:
            self.problem(column, f"{why}, the moment of this import (see --as-of)")
            return None
        return moment


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


# For the other importers (the HR roster): the same typed access and hints.
Fields = _Fields
suggest = _suggest
