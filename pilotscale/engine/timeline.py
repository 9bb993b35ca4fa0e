"""A department's story, oldest first: its phase changes, the waivers of its gates (and
their revocations), and the program's pauses and resumes, which held it too.

Transitions alone left out what explains them ("why did HR wait three weeks?": the
program was paused; "why did it pass with a failing gate?": a waiver). `history` in the
CLI and the department's web page both show this one list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from pilotscale.core.controls import is_revocation, until_text
from pilotscale.models import Department, ProgramControl, Transition, Waiver
from pilotscale.store.queries import department_history
from pilotscale.store.waivers import program_controls, waivers_of


@dataclass(frozen=True)
class Entry:
    """One line of the story, in the shape of a transition (fields it lacks are None)."""

    at: datetime
    event: str  # advance, rollback, ..., waive, revoke, "program pause", "program resume"
    from_phase: str | None
    from_status: str | None
    to_phase: str | None
    to_status: str | None
    actor: str
    on_behalf_of: str
    identity_source: str
    os_user: str
    reason: str
    run_id: str | None
    fields: dict[str, Any]  # as `history --json` prints it (its documented keys)


def department_timeline(
    *, session: Session, department: Department, until: datetime | None = None
) -> list[Entry]:
    """Every entry up to `until` (all without), in time order."""
    ident = department.id or 0
    entries = [_transition(t) for t in department_history(session=session, department_id=ident)]
    entries += [
        _waiver(w) for w in waivers_of(session=session, department_ids=[ident]).get(ident, [])
    ]
    entries += [
        _control(c) for c in program_controls(session=session, program_id=department.program_id)
    ]
    entries.sort(key=lambda e: e.at)
    return [e for e in entries if until is None or e.at <= until]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# The transition-shaped keys every entry's JSON has, and its Entry shows.
_SHOWN = (
    "event",
    "from_phase",
    "from_status",
    "to_phase",
    "to_status",
    "actor",
    "on_behalf_of",
    "identity_source",
    "os_user",
    "reason",
    "run_id",
)


def _entry(fields: dict[str, Any], at: datetime) -> Entry:
    """The entry whose `history --json` object is `fields`."""
    return Entry(at=_aware(at), **{key: fields[key] for key in _SHOWN}, fields=fields)


def _transition(t: Transition) -> Entry:
    return _entry(t.model_dump(mode="json"), t.at)


def _waiver(w: Waiver) -> Entry:
    revoked = is_revocation(w.until, w.at)
    reason = (
        f"'{w.gate}' waiver revoked: {w.reason}"
        if revoked
        else f"'{w.gate}' waived until {until_text(w.until)}: {w.reason}"
    )
    fields = {
        "from_phase": w.phase,
        "from_status": None,
        "to_phase": w.phase,
        "to_status": None,
        "event": "revoke" if revoked else "waive",
        "gate": w.gate,
        "until": None if revoked else w.until.isoformat(),
        "actor": w.on_behalf_of or w.actor,
        "on_behalf_of": w.actor if w.on_behalf_of else "",
        "identity_source": w.identity_source,
        "os_user": w.os_user,
        "reason": reason,
        "at": _aware(w.at).isoformat(),
        "run_id": None,
    }
    return _entry(fields, w.at)


def _control(c: ProgramControl) -> Entry:
    fields = {
        "from_phase": None,
        "from_status": None,
        "to_phase": None,
        "to_status": None,
        "event": f"program {c.event}",
        "actor": c.actor,
        "on_behalf_of": c.on_behalf_of,
        "identity_source": c.identity_source,
        "os_user": c.os_user,
        "reason": c.reason,
        "at": _aware(c.at).isoformat(),
        "run_id": None,
    }
    return _entry(fields, c.at)
