"""One cheap read that changes whenever anything a page shows changes: a page computed
from the store can be served again, unchanged, until it does (the web board)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlmodel import Session

from pilotscale.models import (
    Approval,
    Attestation,
    Barrier,
    ChampionOnboarding,
    Department,
    GateResultRecord,
    MetricObservation,
    Note,
    Program,
    TrainingAssignment,
    Transition,
)
from pilotscale.store.tables import columns_of


def change_marker(*, session: Session) -> tuple[Any, ...]:
    """A tuple equal to the last one read exactly when no plan was applied and no program,
    department, transition, approval, attestation, observation, gate result,
    acknowledgement, decline, barrier, note or training completion was written since. Every
    department write
    bumps its version; the other tables only grow (their highest id) or fill a moment."""
    p, d = columns_of(Program), columns_of(Department)
    c, t = columns_of(ChampionOnboarding), columns_of(TrainingAssignment)
    aggregates = [
        select(func.count()).select_from(d.id.table).scalar_subquery(),
        select(func.sum(d.version)).scalar_subquery(),
        select(func.max(p.applied_at)).scalar_subquery(),
        select(func.max(p.roster_imported_at)).scalar_subquery(),
        select(func.sum(cast(p.paused, Integer))).scalar_subquery(),
        select(func.max(c.acknowledged_at)).scalar_subquery(),
        select(func.max(c.declined_at)).scalar_subquery(),
        select(func.max(t.completed_at)).scalar_subquery(),
    ]
    grown = (Transition, Approval, Attestation, Barrier, Note, MetricObservation, GateResultRecord)
    for model in grown:
        aggregates.append(select(func.max(columns_of(model).id)).scalar_subquery())
    return tuple(session.execute(select(*aggregates)).one())
