"""The people's side of a department in plain sentences, one per item, for every view
(`explain`, the report, the web app): who decided, attested or answered, and how we know
when it was not themself. Plain text: each view escapes it its own way.
"""

from __future__ import annotations

from dataclasses import dataclass

from pilotscale.core.actors import Source
from pilotscale.plan.schema import Plan
from pilotscale.store.people_queries import Entered, PeopleSide


@dataclass(frozen=True)
class Lines:
    decisions: tuple[str, ...]
    attestations: tuple[str, ...]
    champions: tuple[str, ...]
    barriers: tuple[str, ...]
    notes: tuple[str, ...] = ()


def name_of(plan: Plan, person_id: str) -> str:
    """The person's name, or their id when the plan read does not hold them (the views
    that read only gate owners)."""
    person = plan.people_by_id.get(person_id)
    return person.name if person else person_id


def how(plan: Plan, entered: Entered) -> str:
    """' — entered by NAME on behalf: 'REASON'' for an operator's entry; ' (via signed
    link)' and the like for other identity sources; '' for the CLI and old rows."""
    if entered.on_behalf:
        return f" — entered by {name_of(plan, entered.acted_by)} on behalf: '{entered.reason}'"
    if entered.source in (Source.link.value, Source.proxy.value):
        return f" (via {Source(entered.source).label})"
    return ""


def lines(plan: Plan, people: PeopleSide) -> Lines:
    decisions = tuple(
        f"{d.gate}: {'rejected' if d.decision == 'reject' else 'approved'} by "
        f"{name_of(plan, d.approver)} on {d.at:%Y-%m-%d}"
        + (f": {d.comment}" if d.comment else "")
        + how(plan, d.entered)
        for d in people.decisions
    )
    attestations = tuple(
        f"{a.gate}: attested by {name_of(plan, a.by)} on {a.at:%Y-%m-%d}"
        + (f" (evidence: {a.evidence})" if a.evidence else "")
        + how(plan, a.entered)
        for a in people.attestations
    )
    champions = []
    for c in people.champions:
        if c.declined_at is not None:
            said = f"declined on {c.declined_at:%Y-%m-%d}: {c.decline_reason}"
        elif c.acknowledged_at is not None:
            said = f"acknowledged on {c.acknowledged_at:%Y-%m-%d}"
        else:
            said = "has not answered yet"
        champions.append(f"{name_of(plan, c.champion)} {said}{how(plan, c.entered)}")
    barriers = tuple(
        f"{b.at:%Y-%m-%d} {name_of(plan, b.reported_by)}"
        + (f" ({b.area})" if b.area else "")
        + f": {b.text}"
        + how(plan, b.entered)
        for b in people.barriers
    )
    notes = tuple(
        f"{n.at:%Y-%m-%d} {name_of(plan, n.written_by)} ({n.phase}): {n.text}"
        + how(plan, n.entered)
        for n in people.notes
    )
    return Lines(decisions, attestations, tuple(champions), barriers, notes)
