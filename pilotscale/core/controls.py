"""Operator controls over the readiness check: a paused program, waived gates, blackouts.

Pure. The engine reads the program's pause, the department's waivers and the plan's
blackouts, and passes them here with the clock; what comes back is what the check does.

- A paused program: no department is evaluated for a move (the check skips them all),
  until a lead resumes it.
- A waiver: a lead lets a gate count as passing until a date, with a reason. The gate
  is still evaluated and its real result kept, so everyone sees what was set aside; once
  the waiver expires the gate counts again as it evaluates.
- A blackout (the department's quarter close, say): no advance, no entry action and no
  message that can wait. The check still evaluates and records; the first check after
  the window advances what passes and sends what was held back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from pilotscale.core.decisions import Action, Decision
from pilotscale.core.gates import PhaseVerdict, overall_outcome
from pilotscale.core.messages import Message
from pilotscale.core.states import Outcome
from pilotscale.core.waves import Blackout

# What still reaches a department in its blackout: what tells someone that something
# stopped or broke, and the record that a gate was waived (never silent).
URGENT = frozenset({"department_blocked", "delivery_failure", "barrier_reported", "gate_waived"})


@dataclass(frozen=True)
class Waiver:
    """A gate of a department that counts as passing until `until` (exclusive)."""

    gate: str
    until: datetime
    by: str  # who waived it, as shown (a name)
    reason: str
    at: datetime | None = None  # when it was recorded


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def active_waivers(waivers: Iterable[Waiver], now: datetime) -> dict[str, Waiver]:
    """Gate -> the waiver in force at `now`: the one recorded last among those not
    expired (a later waiver replaces an earlier one, even with an earlier date)."""
    latest: dict[str, Waiver] = {}
    epoch = datetime.min.replace(tzinfo=UTC)
    for w in sorted(waivers, key=lambda w: _aware(w.at) if w.at else epoch):
        latest[w.gate] = w
    return {g: w for g, w in latest.items() if _aware(now) < _aware(w.until)}


def is_revocation(until: datetime, at: datetime | None) -> bool:
    """A waiver row that ends as it is recorded is a lead's revocation: the latest row of a
    gate is the one in force (`active_waivers`), so it ends the waiver before it at once,
    with no record changed and the revocation kept, with its reason, for history."""
    return at is not None and _aware(until) <= _aware(at)


def until_text(until: datetime) -> str:
    """A waiver's end: the date, with the time when it is not midnight UTC."""
    moment = _aware(until).astimezone(UTC)
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def waived_text(waiver: Waiver) -> str:
    return f"waived by {waiver.by} until {until_text(waiver.until)}"


def apply_waivers(verdict: PhaseVerdict, waivers: Iterable[Waiver], now: datetime) -> PhaseVerdict:
    """`verdict` with each gate waived at `now` counted as passing. The waived gate's
    result keeps what it observed; its sentence says it is waived and what it found."""
    active = active_waivers(waivers, now)
    if not active:
        return verdict
    results = []
    for r in verdict.results:
        w = active.get(r.gate)
        if w is None or r.outcome is Outcome.passed:
            results.append(r)
            continue
        found = f"it evaluates as {r.outcome}: {r.reason}" if r.reason else f"it is {r.outcome}"
        results.append(
            replace(
                r,
                outcome=Outcome.passed,
                reason=f"{waived_text(w)} ({w.reason}); {found}",
            )
        )
    waived = frozenset(
        r.gate for r, before in zip(results, verdict.results, strict=True) if r is not before
    )
    return PhaseVerdict(
        outcome=overall_outcome(results, verdict.advisory),
        results=tuple(results),
        advisory=verdict.advisory,
        waived=verdict.waived | waived,
    )


def blackout_on(blackouts: Sequence[Blackout], today: date) -> Blackout | None:
    """The blackout `today` (the program's local day) falls in, the latest-ending one if
    several overlap; None outside every blackout."""
    current = [b for b in blackouts if b[0] <= today <= b[1]]
    return max(current, key=lambda b: b[1]) if current else None


def blackout_text(blackout: Blackout) -> str:
    """E.g. "in blackout until 2026-03-31 (quarter close)"."""
    why = f" ({blackout[2]})" if blackout[2] else ""
    return f"in blackout until {blackout[1].isoformat()}{why}"


def in_blackout(decision: Decision, blackout: Blackout | None) -> Decision:
    """What the check does in a blackout: an advance waits (a hold that says why); every
    other decision stands, a block included, since stopping is never what a blackout
    protects against."""
    if blackout is None or decision.action is not Action.advance:
        return decision
    return replace(
        decision,
        action=Action.hold,
        after=decision.before,
        reason=f"{blackout_text(blackout)}; {decision.reason}, it advances after",
    )


def paused(decision: Decision) -> Decision:
    """What the check does while the program is paused: nothing, with the reason."""
    if decision.action is Action.skip:
        return decision
    return replace(
        decision,
        action=Action.skip,
        after=decision.before,
        reason="skipped: the program is paused (pilotscale program resume)",
    )


def quiet(messages: Iterable[Message], blackout: Blackout | None) -> list[Message]:
    """The messages that go out now: all of them, or in a blackout only the urgent ones
    (the rest are queued again by the first check after it, which finds the same state)."""
    if blackout is None:
        return list(messages)
    return [m for m in messages if m.event in URGENT]
