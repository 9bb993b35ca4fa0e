"""Waived gates and the program's pause records: rows in, rows out."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from pilotscale.models import ProgramControl, Waiver
from pilotscale.store.id_match import id_in


def waivers_of(*, session: Session, department_ids: Sequence[int]) -> dict[int, list[Waiver]]:
    """Department id -> its waivers, every one ever recorded (the core picks the one in
    force), oldest first. One query for all departments."""
    if not department_ids:
        return {}
    rows = session.exec(
        select(Waiver)
        .where(id_in(session, col(Waiver.department_id), department_ids))
        .order_by(col(Waiver.at), col(Waiver.id))
    )
    out: dict[int, list[Waiver]] = {}
    for row in rows:
        out.setdefault(row.department_id, []).append(row)
    return out


def program_controls(*, session: Session, program_id: int) -> list[ProgramControl]:
    """The program's pauses and resumes, oldest first."""
    rows = session.exec(
        select(ProgramControl)
        .where(ProgramControl.program_id == program_id)
        .order_by(col(ProgramControl.at), col(ProgramControl.id))
    )
    return list(rows)
