"""Who did what in a department's current phase visit: what separation of duties reads."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from pilotscale.models import Attestation, Transition


def visit_requesters(
    *, session: Session, department_id: int, phase: str, phase_entered_at: datetime
) -> set[str]:
    """The people recorded on the transition that entered the current visit: its actor
    (a person id, or 'scheduler' when a readiness check advanced it) and, when an operator
    acted for someone, that someone."""
    row = session.exec(
        select(Transition.actor, Transition.on_behalf_of)
        .where(
            col(Transition.department_id) == department_id,
            col(Transition.to_phase) == phase,
            col(Transition.at) == phase_entered_at,
        )
        .order_by(col(Transition.id).desc())
    ).first()
    return {who for who in (row or ()) if who}


def visit_attesters(
    *, session: Session, department_id: int, phase: str, phase_entered_at: datetime
) -> set[str]:
    """Everyone who attested a gate in the current visit, or entered an attestation on
    someone's behalf."""
    rows = session.exec(
        select(Attestation.attested_by, Attestation.acted_by).where(
            col(Attestation.department_id) == department_id,
            col(Attestation.phase) == phase,
            col(Attestation.attested_at) >= phase_entered_at,
        )
    ).all()
    return {who for row in rows for who in row if who}
