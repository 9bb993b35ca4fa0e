"""The words for where a department and a gate stand, defined once.

`status`, `explain`, the readiness check's summary, the report, the weekly digest and the
web pages all name states with these words, so a reader never sees "held" in one place
and "blocked" in another for the same department. README.md ("The words for states")
says the same in prose; tests/pilotscale/core/test_vocabulary.py keeps both in step.

Pure: plain values in, a word out.
"""

from __future__ import annotations

from enum import StrEnum

from pilotscale.core.states import Outcome, Status


class State(StrEnum):
    """Where a department stands: exactly one of these at any moment."""

    not_started = "not started"
    in_flight = "in flight"
    held = "held"
    blocked = "blocked"
    paused = "paused"
    rolled_back = "rolled back"
    aborted = "aborted"
    operating_healthy = "operating, healthy"
    operating_watched = "operating, watched"

    @property
    def operating(self) -> bool:
        return self in (State.operating_healthy, State.operating_watched)

    @property
    def css(self) -> str:
        """A class name for pages: the word with dashes."""
        return "state-" + self.value.replace(", ", "-").replace(" ", "-")


class GateState(StrEnum):
    """Where one gate stands."""

    passes = "passes"
    fails = "fails"
    pending = "pending"
    stuck = "stuck"
    waived = "waived"


STATE_MEANINGS: dict[State, str] = {
    State.not_started: "still in the first phase; no readiness check evaluates it yet",
    State.in_flight: (
        "started, before the last phase, every gate of its phase passes: it advances at the "
        "next readiness check"
    ),
    State.held: (
        "started, before the last phase, some gate of its phase fails or is pending: it "
        "stays where it is until they all pass"
    ),
    State.blocked: (
        "stopped by too many failing readiness checks in a row; escalated, and it moves "
        "again only when an operator resumes it"
    ),
    State.paused: "an operator paused it; checks skip it until it is resumed",
    State.rolled_back: "returned to an earlier phase; it moves again once resumed",
    State.aborted: "its mini-pilot was stopped for good",
    State.operating_healthy: "in the last phase and every monitoring gate passes",
    State.operating_watched: "in the last phase and some monitoring gate fails or is pending",
}

GATE_MEANINGS: dict[GateState, str] = {
    GateState.passes: "the gate's condition holds now",
    GateState.fails: "the gate's condition does not hold now",
    GateState.pending: "not enough data, time or decisions yet to tell: never a pass",
    GateState.stuck: "pending at as many readiness checks in a row as its limit allows",
    # No command waives a gate today (`start --force` overrides wave rules, never a
    # gate); the word is kept for that one meaning so no page uses it for another.
    GateState.waived: "set aside by a recorded decision; pilotscale never waives a gate itself",
}

_SIDE_STATES = {
    Status.paused: State.paused,
    Status.blocked: State.blocked,
    Status.rolled_back: State.rolled_back,
    Status.aborted: State.aborted,
}


def department_state(*, status: str, started: bool, final: bool, outcome: str | None) -> State:
    """The one word for a department: its side state first (an operator or the check put
    it there, whatever its gates say), then where its phase and gates stand. `outcome` is
    the overall result of its current phase's gates (None: not evaluated)."""
    side = _SIDE_STATES.get(Status(status))
    if side is not None:
        return side
    if not started:
        return State.not_started
    passing = outcome == str(Outcome.passed)
    if final:
        return State.operating_healthy if passing else State.operating_watched
    return State.in_flight if passing else State.held


def gate_state(*, outcome: str, stuck: bool = False) -> GateState:
    if stuck and outcome == str(Outcome.pending):
        return GateState.stuck
    return {
        str(Outcome.passed): GateState.passes,
        str(Outcome.failed): GateState.fails,
    }.get(outcome, GateState.pending)
