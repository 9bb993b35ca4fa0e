"""Writing an imported HR roster: people upserted in chunks, leavers deactivated.

The caller owns the transaction (an import is all or nothing). Rows arrive in a stream
and are written `batch` at a time: one SELECT of the chunk's people, one multi-row
INSERT of the new ones and one executemany UPDATE of the changed ones, so 100,000 rows
cost a few hundred statements and memory holds one chunk plus the roster's ids.

Importing the same file again changes nothing: values are compared before they are
written. A person on the previous roster and missing from this one is deactivated
(`removed_at`), never deleted: their approvals, attestations, completions and messages
keep pointing at them, and they come back if a later roster lists them again. A person
the plan lists stays active whatever the roster says: the plan named them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import Session

from pilotscale.core.roster import TRAINEE_SEGMENTS, effective_segment, role_names
from pilotscale.models import Department, Person, Program, TrainingAssignment
from pilotscale.plan.schema import Plan
from pilotscale.store.id_match import id_in
from pilotscale.store.tables import columns_of, table_of

# A type only: the roster's readers stay out of every command that merely reads the store.
if TYPE_CHECKING:
    from pilotscale.metrics.roster_ingest import RosterRow

BATCH = 2000
ANALYZE_AFTER = 10_000  # new people
# Bound parameters per IN list: far below SQLite's and PostgreSQL's limits.
IN_CHUNK = 1000
_ROSTER_FIELDS = (
    "manager",
    "locale",
    "roster_roles",
    "in_roster",
    "removed_at",
    "timezone",
    "quiet_hours",
    "digest_day",
    "roster_notify",
)
_OWN_FIELDS = ("name", "email", "chat", "department_id", "segment", "source", "notify")


@dataclass
class RosterCounts:
    rows: int = 0
    added: int = 0
    updated: int = 0
    reactivated: int = 0  # of `updated`: people back on the roster
    deactivated: int = 0  # left the roster (plan people stay active)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deactivated)


class RosterWriter:
    """Buffers validated rows and writes them in chunks inside the caller's session."""

    def __init__(
        self,
        *,
        session: Session,
        program_id: int,
        plan: Plan,
        department_ids: Mapping[str, int],
        now: datetime,
        batch: int = BATCH,
    ) -> None:
        self.session = session
        self.program_id = program_id
        self.department_ids = dict(department_ids)
        self.now = now
        self.batch = batch
        self.counts = RosterCounts()
        self.plan_people = {p.id: p for p in plan.people}
        self.roles = role_names(plan)
        p = columns_of(Person)
        # Everyone stored, and who the last roster listed (whoever this one does not is
        # leaving): ids only, a few MB at 100,000 people.
        self.stored: set[str] = set()
        self.leaving: set[str] = set()
        for key, listed in self.session.execute(
            select(p.key, p.in_roster).where(p.program_id == program_id)
        ):
            self.stored.add(key)
            if listed:
                self.leaving.add(key)
        self._pending: list[RosterRow] = []

    def add(self, row: RosterRow) -> None:
        self._pending.append(row)
        self.counts.rows += 1
        if len(self._pending) >= self.batch:
            self.flush()

    def finish(self, *, fingerprint: str) -> RosterCounts:
        """Write what is left and deactivate the leavers; `fingerprint` (the file's
        SHA-256) is recorded when anything changed."""
        self.flush()
        self._deactivate(sorted(self.leaving))
        if self.counts.added >= ANALYZE_AFTER and self.session.connection().dialect.name == (
            "postgresql"
        ):
            # Fresh statistics for the next import's and the check's lookups (PostgreSQL
            # analyzes by itself only some time after the commit).
            self.session.execute(text("ANALYZE person"))
        if self.counts.changed:
            self.session.execute(
                update(table_of(Program))
                .where(columns_of(Program).id == self.program_id)
                .values(roster_sha256=fingerprint, roster_imported_at=self.now)
            )
        return self.counts

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        p = columns_of(Person)
        columns = [p.id, p.key, *(p[c] for c in (*_OWN_FIELDS, *_ROSTER_FIELDS))]
        # Only people already stored are looked up: in a first import's transaction the
        # table grows faster than PostgreSQL's statistics, and its planner then scanned
        # the whole table for each chunk's lookup (1.8 s a chunk at 100,000 rows).
        known = [r.key for r in rows if r.key in self.stored]
        found = (
            {
                r.key: r
                for r in self.session.execute(
                    select(*columns).where(p.program_id == self.program_id, p.key.in_(known))
                ).mappings()
            }
            if known
            else {}
        )
        new: list[dict[str, Any]] = []
        changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            self.leaving.discard(row.key)
            wanted = self._wanted(row)
            old = found.get(row.key)
            if old is None:
                new.append(
                    {"program_id": self.program_id, "key": row.key, "notify": "email", **wanted}
                )
                continue
            if any(old[k] != v for k, v in wanted.items()):
                if old["removed_at"] is not None:
                    self.counts.reactivated += 1
                changed.setdefault(tuple(sorted(wanted)), []).append(
                    {"ident": old["id"], **{f"v_{k}": v for k, v in wanted.items()}}
                )
            else:
                self.counts.unchanged += 1
        if new:
            _insert_many(self.session, new)
            self.counts.added += len(new)
            self.stored.update(r["key"] for r in new)
        for fields, updates in changed.items():
            self._update(fields, updates)

    def _wanted(self, row: RosterRow) -> dict[str, Any]:
        """The person's columns as this row makes them: a plan person keeps the plan's
        name, email, chat, notify and declared segment and department (apply writes
        those)."""
        department_id = self.department_ids[row.department]
        roster = {
            "manager": row.manager,
            "locale": row.locale,
            "roster_roles": row.roles,
            "in_roster": True,
            "removed_at": None,
            # Kept for plan people too: they fill what the plan does not say
            # (store.roster_plan). `notify` is a column of the plan's (apply writes it),
            # so the roster's is kept beside it.
            "timezone": row.timezone,
            "quiet_hours": row.quiet_hours,
            "digest_day": row.digest_day,
            "roster_notify": row.notify,
        }
        person = self.plan_people.get(row.key)
        if person is None:
            return {
                "name": row.name,
                "email": row.email,
                "chat": row.chat,
                "department_id": department_id,
                "segment": row.segment,
                "source": "roster",
                "notify": row.notify or "email",
                **roster,
            }
        segment = effective_segment(
            declared=person.segment.value if person.segment else None,
            roster=row.segment,
            roles=self.roles.get(person.id, ()),
        )
        if person.department is not None and person.department in self.department_ids:
            department_id = self.department_ids[person.department]
        return {"department_id": department_id, "segment": segment, **roster}

    def _update(self, fields: tuple[str, ...], updates: list[dict[str, Any]]) -> None:
        table = table_of(Person)
        statement = (
            update(table)
            .where(table.c.id == bindparam("ident"))
            .values({f: bindparam(f"v_{f}") for f in fields})
        )
        self.session.execute(statement, updates)  # executemany: one round trip per chunk
        self.counts.updated += len(updates)

    def _deactivate(self, keys: list[str]) -> None:
        p, table = columns_of(Person), table_of(Person)
        for first in range(0, len(keys), IN_CHUNK):
            chunk = keys[first : first + IN_CHUNK]
            mine = (p.program_id == self.program_id, p.key.in_(chunk))
            gone = self.session.execute(
                update(table)
                .where(*mine, p.source == "roster")
                .values(in_roster=False, removed_at=self.now)
            )
            # A person the plan lists stays: the roster only stops vouching for them.
            self.session.execute(
                update(table).where(*mine, p.source != "roster").values(in_roster=False)
            )
            self.counts.deactivated += int(gone.rowcount or 0)  # type: ignore[attr-defined]


def _insert_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """New people, in the caller's transaction. On PostgreSQL through COPY: psycopg parses
    the text of every multi-row INSERT (a third of a 100,000-row import went there), and a
    plain executemany is a round trip per row. SQLite's executemany is already fast."""
    table = table_of(Person)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw: Any = connection.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    with raw.cursor() as cursor, cursor.copy(f"COPY person ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def active_counts(*, session: Session, program_id: int) -> dict[str, int]:
    """Active people per department (plan and roster): the denominators' headcount."""
    p, d = columns_of(Person), columns_of(Department)
    rows = session.execute(
        select(d.name, func.count(p.id))
        .select_from(table_of(Department))
        .join(table_of(Person), p.department_id == d.id)
        .where(d.program_id == program_id, p.removed_at.is_(None))
        .group_by(d.name)
    ).all()
    return {name: int(n) for name, n in rows}


def segment_counts(*, session: Session, program_id: int) -> dict[str, dict[str, int]]:
    """Active people per department and segment, for `pilotscale people list`."""
    p, d = columns_of(Person), columns_of(Department)
    rows = session.execute(
        select(d.name, p.segment, func.count(p.id))
        .select_from(table_of(Department))
        .join(table_of(Person), p.department_id == d.id)
        .where(d.program_id == program_id, p.removed_at.is_(None))
        .group_by(d.name, p.segment)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for name, segment, n in rows:
        out.setdefault(name, {})[segment] = int(n)
    return out


def roster_keys(*, session: Session, program_id: int) -> set[str]:
    """Ids of the people on the active roster (a plan may name them in its roles)."""
    p = columns_of(Person)
    return set(
        session.execute(
            select(p.key).where(
                p.program_id == program_id, p.in_roster.is_(True), p.removed_at.is_(None)
            )
        ).scalars()
    )


def has_roster(*, session: Session, program_id: int) -> bool:
    """Whether a roster was ever imported (then headcounts are counted, not planned)."""
    c = columns_of(Program)
    found = session.execute(select(c.roster_sha256).where(c.id == program_id)).scalar()
    return found is not None


def listed_people(
    *, session: Session, program_id: int, department_id: int | None = None
) -> list[dict[str, Any]]:
    """Active people (key, name, email, segment, source, department id, in_roster, and what
    the roster or the plan says of their messages: chat, notify, roster_notify, timezone,
    quiet_hours, digest_day), ordered by key."""
    p = columns_of(Person)
    where = [p.program_id == program_id, p.removed_at.is_(None)]
    if department_id is not None:
        where.append(p.department_id == department_id)
    rows = session.execute(
        select(
            p.key,
            p.name,
            p.email,
            p.segment,
            p.source,
            p.department_id,
            p.in_roster,
            p.chat,
            p.notify,
            p.roster_notify,
            p.timezone,
            p.quiet_hours,
            p.digest_day,
        )
        .where(*where)
        .order_by(p.key)
    ).mappings()
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class Newcomer:
    department_id: int
    person_id: int
    key: str
    segment: str


def unassigned_trainees(*, session: Session, department_ids: list[int]) -> list[Newcomer]:
    """Active trainees of these departments with nothing of their segment assigned: people
    imported after their department's training was delivered. One query."""
    if not department_ids:
        return []
    p, t = columns_of(Person), columns_of(TrainingAssignment)
    assigned = (
        select(t.id)
        .where(t.person_id == p.id, t.department_id == p.department_id, t.segment == p.segment)
        .exists()
    )
    rows = session.execute(
        select(p.department_id, p.id, p.key, p.segment)
        .where(
            id_in(session, p.department_id, department_ids),
            p.removed_at.is_(None),
            p.segment.in_(TRAINEE_SEGMENTS),
            ~assigned,
        )
        .order_by(p.department_id, p.key)
    ).all()
    return [Newcomer(d, i, k, s) for d, i, k, s in rows]
