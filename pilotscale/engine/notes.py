"""Lessons learned: someone who lived a department's rollout writes down what they learned.

A note is kept with who wrote it and how we know (the CLI's `--by` and OS user, or an
operator's entry on their behalf), in the phase the department was in, and shown with the
department in the report and on its web page. Nobody is notified: a note is for reading
when the next department prepares, not a request to act.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.actors import Actor
from pilotscale.core.duties import require_text
from pilotscale.core.permissions import allow_note
from pilotscale.engine.acting import (
    Done,
    Refused,
    begin,
    on_behalf_note,
    recorded_os_user,
    view_and_row,
)
from pilotscale.models import Note

# A lesson is a paragraph, not a document: past this it belongs in a wiki, linked.
MAX_NOTE = 4000


def record_note(
    *,
    engine: Engine,
    department: str,
    actor: Actor,
    text: str,
    now: datetime,
    program: str | None = None,
) -> Done:
    """Record `text` as a lesson learned in `department` by `actor.subject`."""
    said = require_text(text, what="say what was learned: pilotscale note DEPARTMENT TEXT")
    if len(said) > MAX_NOTE:
        raise Refused(
            f"a note is at most {MAX_NOTE} characters ({len(said)} given): "
            "put the long version in a wiki and note the link"
        )
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        allow_note(view.plan, act.subject, department)
        session.add(
            Note(
                department_id=row.id or 0,
                phase=row.phase,
                written_by=act.subject.id,
                text=said,
                written_at=now,
                identity_source=act.identity_source,
                acted_by=act.acted_by,
                on_behalf_reason=act.reason,
                os_user=recorded_os_user(actor),
            )
        )
    return Done(department, f"note recorded for {row.title}{on_behalf_note(act)}")
