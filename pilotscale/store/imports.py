"""Writing validated import rows: observations, training completions, acknowledgements.

The caller owns the transaction (an import is all or nothing); rows arrive in a
stream and are written in batches, so memory stays flat. Re-importing a file
changes nothing: observations are deduplicated by their unique key, and a
completion or acknowledgement that is already recorded keeps its first date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import and_, bindparam, select, update
from sqlmodel import Session, col

from pilotscale.metrics.ingest import AckRow, CompletionRow, ObservationRow, Row
from pilotscale.models import ChampionOnboarding, MetricObservation, Person, TrainingAssignment
from pilotscale.store.insert import insert_ignore
from pilotscale.store.tables import table_of

BATCH = 1000
MAX_EXAMPLES = 5


@dataclass
class ImportCounts:
    rows: int = 0
    written: int = 0  # new observations, completions or acknowledgements
    duplicates: int = 0  # already recorded (the same row again, or an earlier import)
    not_applicable: int = 0  # nothing to record it on yet (no assignment, not onboarded)
    examples: list[str] = field(default_factory=list)  # why, for the first few of those


class ImportWriter:
    """Buffers rows of one kind and writes them in batches inside the caller's session."""

    def __init__(
        self,
        *,
        session: Session,
        program_id: int,
        department_ids: Mapping[str, int],
        source: str,
        batch: int = BATCH,
    ) -> None:
        self.session = session
        self.program_id = program_id
        self.department_ids = dict(department_ids)
        self.source = source
        self.batch = batch
        self.counts = ImportCounts()
        self._pending: list[Row] = []
        self._people: dict[str, int] | None = None

    def add(self, row: Row) -> None:
        self._pending.append(row)
        self.counts.rows += 1
        if len(self._pending) >= self.batch:
            self.flush()

    def finish(self) -> ImportCounts:
        self.flush()
        return self.counts

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        if isinstance(rows[0], ObservationRow):
            self._observations(cast(list[ObservationRow], rows))
        elif isinstance(rows[0], CompletionRow):
            self._completions(cast(list[CompletionRow], rows))
        else:
            self._acks(cast(list[AckRow], rows))

    # ----------------------------------------------------------------------- kinds

    def _observations(self, rows: list[ObservationRow]) -> None:
        inserted = insert_ignore(
            session=self.session,
            model=MetricObservation,
            rows=[
                {
                    "program_id": self.program_id,
                    "department_id": self.department_ids[r.department],
                    "metric": r.metric,
                    "value": r.value,
                    "observed_at": r.observed_at,
                    "segment": r.segment,
                    "person_key": r.person,
                    "source": self.source,
                }
                for r in rows
            ],
        )
        self.counts.written += inserted
        self.counts.duplicates += len(rows) - inserted

    def _completions(self, rows: list[CompletionRow]) -> None:
        people = self._person_ids()
        t = table_of(TrainingAssignment).c
        found = self.session.execute(
            select(t.id, t.person_id, t.module_id, t.completed_at).where(
                t.person_id.in_({people[r.person] for r in rows if r.person in people}),
                t.module_id.in_({r.module for r in rows}),
            )
        ).all()
        by_key = {(person, module): (ident, done) for ident, person, module, done in found}
        updates: list[dict[str, Any]] = []
        for r in rows:
            key = (people.get(r.person, -1), r.module)
            if key not in by_key:
                self._not_applicable(
                    f"{r.person} has no assignment '{r.module}' yet (their department has not "
                    "reached the phase that trains their segment)"
                )
                continue
            ident, done = by_key[key]
            if done is not None:
                self.counts.duplicates += 1
                continue
            by_key[key] = (ident, r.completed_at)
            updates.append({"ident": ident, "at": r.completed_at})
        self._update(TrainingAssignment, "completed_at", updates)

    def _acks(self, rows: list[AckRow]) -> None:
        people = self._person_ids()
        c = table_of(ChampionOnboarding).c
        wanted = {(self.department_ids[r.department], people.get(r.champion, -1)) for r in rows}
        found = self.session.execute(
            select(c.id, c.department_id, c.person_id, c.acknowledged_at).where(
                c.department_id.in_({d for d, _ in wanted}),
                c.person_id.in_({p for _, p in wanted}),
            )
        ).all()
        by_key = {(dept, person): (ident, at) for ident, dept, person, at in found}
        updates: list[dict[str, Any]] = []
        for r in rows:
            key = (self.department_ids[r.department], people.get(r.champion, -1))
            if key not in by_key:
                self._not_applicable(
                    f"{r.champion} has not been onboarded as a champion of {r.department} yet "
                    "(the department has not started)"
                )
                continue
            ident, at = by_key[key]
            if at is not None:
                self.counts.duplicates += 1
                continue
            by_key[key] = (ident, r.acknowledged_at)
            updates.append({"ident": ident, "at": r.acknowledged_at})
        self._update(ChampionOnboarding, "acknowledged_at", updates)

    # ----------------------------------------------------------------------- helpers

    def _update(self, model: Any, column: str, updates: list[dict[str, Any]]) -> None:
        if not updates:
            return
        table = table_of(model)
        statement = (
            update(table)
            .where(and_(table.c.id == bindparam("ident"), table.c[column].is_(None)))
            .values({column: bindparam("at")})
        )
        # executemany: one round trip per batch, and `IS NULL` keeps the first date.
        self.session.execute(statement, updates)
        self.counts.written += len(updates)

    def _not_applicable(self, why: str) -> None:
        self.counts.not_applicable += 1
        if len(self.counts.examples) < MAX_EXAMPLES:
            self.counts.examples.append(why)

    def _person_ids(self) -> dict[str, int]:
        if self._people is None:
            rows = self.session.execute(
                select(col(Person.key), col(Person.id)).where(
                    col(Person.program_id) == self.program_id
                )
            ).all()
            self._people = {key: ident for key, ident in rows if ident is not None}
        return self._people
