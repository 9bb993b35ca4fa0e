"""Validating an HR roster export against the plan, row by row. No database here: the
store (`pilotscale.store.roster_rows`) writes what this module accepted.

A roster row is one employee: id, name, email, department, segment, and optionally
roles, manager, chat, locale and their message preferences: notify (email, chat, both,
digest), timezone (an IANA name), quiet_hours ('20:00-08:00') and digest_day (mon..sun).
Every problem names the row and column (`FILE:ROW: column: message`); an import writes
nothing unless every row is valid.

A row whose id or email is a person of the plan is that person: the plan's name, email,
chat and roles stand, and the roster supplies the department and segment where the plan
names none. Ids are case-insensitive (HR systems write `E1042`; the store keeps `e1042`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from pilotscale.core.roster import ROSTER_SEGMENTS
from pilotscale.metrics.ingest import Fields, RowProblem, suggest
from pilotscale.metrics.reader import Record
from pilotscale.plan.schema import (
    SLUG_PATTERN,
    Plan,
    Role,
    check_timezone,
    normal_quiet_hours,
    parse_weekday,
)

REQUIRED = ("id", "name", "email", "department", "segment")
PREFERENCES = ("notify", "timezone", "quiet_hours", "digest_day")
NOTIFY = ("email", "chat", "both", "digest")
OPTIONAL = ("roles", "manager", "chat", "locale", *PREFERENCES)
COLUMNS = (*REQUIRED, *OPTIONAL)
# Header names HR exports use for ours.
ALIASES = {
    "employee_id": "id",
    "person": "id",
    "full_name": "name",
    "chat_address": "chat",
    "language": "locale",
    "time_zone": "timezone",
    "tz": "timezone",
}
ROLES = tuple(r.value for r in Role)
_SLUG = re.compile(SLUG_PATTERN)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
_ROLE_SPLIT = re.compile(r"[;,|\s]+")


@dataclass(frozen=True, slots=True)
class RosterRow:
    key: str  # the person's id in the store: the plan's id when the plan lists them
    name: str
    email: str
    department: str
    segment: str  # power, casual or none
    roles: str = ""  # comma-separated role names
    manager: str | None = None
    chat: str | None = None
    locale: str | None = None
    in_plan: bool = False
    notify: str | None = None  # None: not said (email for a roster-only person)
    timezone: str | None = None
    quiet_hours: str | None = None  # normalised 'HH:MM-HH:MM'
    digest_day: str | None = None  # mon..sun


class RosterCatalog:
    """What a roster row may name: the plan's departments and people."""

    def __init__(self, plan: Plan, departments: Iterable[str] | None = None) -> None:
        self.departments = sorted(departments or (d.name for d in plan.departments))
        self.plan_ids = {p.id for p in plan.people}
        self.plan_emails = {p.email.lower(): p.id for p in plan.people}


class RosterChecker:
    """Checks rows in file order; remembers ids and emails to report repeats."""

    def __init__(self, catalog: RosterCatalog) -> None:
        self.catalog = catalog
        self.seen_ids: dict[str, int] = {}
        self.seen_emails: dict[str, int] = {}

    def check(self, record: Record) -> RosterRow | list[RowProblem]:
        if record.problem:
            return [RowProblem(record.row, "", record.problem)]
        problems: list[RowProblem] = []
        fields = {ALIASES.get(k, k): v for k, v in record.fields.items()}
        f = Fields(Record(record.row, fields), problems)
        ident = f.text("id").lower()
        if ident and not _SLUG.match(ident):
            f.problem(
                "id",
                f"'{ident}' is not an id: letters, digits, '.', '_' or '-', "
                "starting with a letter or digit, at most 63 characters",
            )
        name = f.text("name")
        email = f.text("email")
        if email and not _EMAIL.match(email):
            f.problem("email", f"'{email}' is not an email address")
        department = f.text("department")
        if department and department not in self.catalog.departments:
            known = self.catalog.departments
            f.problem(
                "department",
                f"unknown department '{department}'{suggest(department, known)} "
                f"(the plan's: {', '.join(known[:12]) or 'none'}); leave people of other "
                "departments out of the file, or add the department to the plan",
            )
        segment = f.text("segment").lower()
        if segment and segment not in ROSTER_SEGMENTS:
            f.problem(
                "segment",
                f"'{segment}' is not a segment: use power, casual or none (not a trainee)",
            )
        roles = self._roles(f)
        key = self._identity(f, ident, email)
        self._repeats(f, ident, email.lower())
        manager = f.text("manager", required=False).lower() or None
        chat = f.text("chat", required=False) or None
        locale = self._locale(f)
        notify, timezone, quiet_hours, digest_day = self._preferences(f)
        if problems:
            return problems
        return RosterRow(
            key=key,
            name=name,
            email=email,
            department=department,
            segment=segment,
            roles=roles,
            manager=manager,
            chat=chat,
            locale=locale,
            in_plan=key in self.catalog.plan_ids,
            notify=notify,
            timezone=timezone,
            quiet_hours=quiet_hours,
            digest_day=digest_day,
        )

    def _preferences(self, f: Fields) -> tuple[str | None, ...]:
        notify = f.text("notify", required=False).lower() or None
        if notify and notify not in NOTIFY:
            f.problem(
                "notify", f"'{notify}'{suggest(notify, NOTIFY)} is not one of {', '.join(NOTIFY)}"
            )
        checked: list[str | None] = [notify]
        for column, check in (
            ("timezone", check_timezone),
            ("quiet_hours", normal_quiet_hours),
            ("digest_day", parse_weekday),
        ):
            value = f.text(column, required=False)
            try:
                checked.append(check(value) if value else None)
            except ValueError as why:
                f.problem(column, f"'{value}': {why}" if column == "timezone" else str(why))
                checked.append(None)
        return tuple(checked)

    def _roles(self, f: Fields) -> str:
        raw = f.text("roles", required=False).lower()
        names = [r for r in _ROLE_SPLIT.split(raw) if r]
        for name in names:
            if name not in ROLES:
                f.problem(
                    "roles",
                    f"unknown role '{name}'{suggest(name, ROLES)} (roles: {', '.join(ROLES)})",
                )
        return ",".join(dict.fromkeys(names))

    def _locale(self, f: Fields) -> str | None:
        locale = f.text("locale", required=False)
        if locale and not _LOCALE.match(locale):
            f.problem("locale", f"'{locale}' is not a locale (e.g. es, en-GB, pt_BR)")
            return None
        return locale or None

    def _identity(self, f: Fields, ident: str, email: str) -> str:
        """The plan person this row is, matched by id or email; the row's id otherwise."""
        by_email = self.catalog.plan_emails.get(email.lower())
        if ident in self.catalog.plan_ids and by_email and by_email != ident:
            f.problem(
                "email",
                f"'{email}' is the email of '{by_email}' in the plan, but this row's id "
                f"'{ident}' is another person of the plan: fix the id or the email",
            )
        if ident in self.catalog.plan_ids:
            return ident
        return by_email or ident

    def _repeats(self, f: Fields, ident: str, email: str) -> None:
        for column, value, seen in (
            ("id", ident, self.seen_ids),
            ("email", email, self.seen_emails),
        ):
            if not value:
                continue
            first = seen.setdefault(value, f.record.row)
            if first != f.record.row:
                f.problem(column, f"'{value}' is used twice (first at row {first})")


def check_header(header: Sequence[str] | None) -> list[RowProblem]:
    """Problems with a CSV header: missing required columns, unknown columns."""
    if header is None:
        return []
    names = [ALIASES.get(c, c) for c in header]
    problems = [
        RowProblem(
            1, column, f"unknown column{suggest(column, COLUMNS)} (columns: {', '.join(COLUMNS)})"
        )
        for column, name in zip(header, names, strict=True)
        if name not in COLUMNS
    ]
    problems += [
        RowProblem(1, column, f"required column is missing (header: {', '.join(header)})")
        for column in REQUIRED
        if column not in names
    ]
    return problems


def validate(
    records: Iterable[Record], catalog: RosterCatalog, *, header_checked: bool = False
) -> Iterator[RosterRow | list[RowProblem]]:
    """Each record as a valid row, or the list of its problems (unknown fields of a JSON
    record included; a CSV's unknown columns are reported once, for the header)."""
    checker = RosterChecker(catalog)
    known = set(COLUMNS) | set(ALIASES)
    for record in records:
        extra = (
            []
            if header_checked or record.problem
            else [
                RowProblem(
                    record.row,
                    key,
                    f"unknown field{suggest(key, COLUMNS)} (fields: {', '.join(COLUMNS)})",
                )
                for key in record.fields
                if key not in known
            ]
        )
        item = checker.check(record)
        if extra:
            yield extra + (item if isinstance(item, list) else [])
        else:
            yield item
