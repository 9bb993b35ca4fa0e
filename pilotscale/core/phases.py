"""The department state machine, as a transition table.

In the spirit of Prefect's orchestration policy (`core_policy.py`): the rules are
data, listed in priority order, each naming the statuses and phase positions it
applies from and the state it leads to. `PhaseMachine.apply` takes the first rule
that matches; when none does, the refusal explains what is in the way and what to
do instead, because the person reading it is usually at a terminal mid-rollout.

A department's state is its phase (from the plan's ordered list) plus a status
(the side states). The first phase means "not started"; the last one means
"operating": it never ends, the department stays under monitoring there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pilotscale.core.states import Status
from pilotscale.refusal import Conflict


class Event(StrEnum):
    start = "start"
    advance = "advance"
    pause = "pause"
    resume = "resume"
    block = "block"
    rollback = "rollback"
    abort = "abort"


class TransitionError(Conflict):
    """A refused transition; the message says why and what to do instead."""


@dataclass(frozen=True)
class DeptState:
    phase: str
    status: Status

    def __str__(self) -> str:
        return self.phase if self.status is Status.active else f"{self.phase}, {self.status}"


class Position(StrEnum):
    """Where a phase sits in the plan's order; rules care about this, not names."""

    first = "first"  # not started
    middle = "middle"  # in flight
    final = "final"  # operating, still monitored


class Move(StrEnum):
    stay = "stay"  # same phase
    next = "next"  # the following phase
    target = "target"  # the phase named by the event (rollback)


class Target(StrEnum):
    """What the event's target phase must be for a rule to apply."""

    none = "none"  # no target may be given
    first = "first"  # the first phase: back to "not started"
    earlier = "earlier"  # a started phase earlier than the current one


@dataclass(frozen=True)
class Rule:
    name: str
    event: Event
    from_statuses: frozenset[Status]
    at: frozenset[Position]
    move: Move
    to_status: Status
    target: Target = Target.none

    def matches(self, event: Event, status: Status, at: Position, target: Target) -> bool:
        return (
            event is self.event
            and status in self.from_statuses
            and at in self.at
            and target is self.target
        )


NOT_STARTED = frozenset({Position.first})
IN_FLIGHT = frozenset({Position.middle})
STARTED = frozenset({Position.middle, Position.final})
ANY_STATUS = frozenset(Status)
ACTIVE = frozenset({Status.active})
NOT_ACTIVE = ANY_STATUS - ACTIVE
NOT_ABORTED = ANY_STATUS - {Status.aborted}
# Side states that a plain `resume` clears. Aborted is deliberately not one of them:
# an aborted mini-pilot restarts only by rolling it back to a chosen phase.
RESUMABLE = frozenset({Status.paused, Status.blocked, Status.rolled_back})

# Priority order: the first rule that matches wins. No two rules overlap today, and a
# test keeps it that way, so that the order can never silently hide a rule.
# Columns: name, event, from statuses, at positions, move, to status[, target].
RULES: tuple[Rule, ...] = (
    Rule("start", Event.start, ACTIVE, NOT_STARTED, Move.next, Status.active),
    Rule("advance", Event.advance, ACTIVE, IN_FLIGHT, Move.next, Status.active),
    Rule("pause", Event.pause, ACTIVE, STARTED, Move.stay, Status.paused),
    Rule("resume", Event.resume, RESUMABLE, STARTED, Move.stay, Status.active),
    # Side states at the first phase cannot arise through this table, but a hand-edited
    # or migrated row must never be stuck with no way out: resume clears any of them.
    Rule("resume-unstarted", Event.resume, NOT_ACTIVE, NOT_STARTED, Move.stay, Status.active),
    Rule("block", Event.block, ACTIVE, STARTED, Move.stay, Status.blocked),
    # Back to the first phase is back to "not started": no side state to resume from,
    # the department waits to be started again and takes no capacity meanwhile.
    Rule(
        "rollback-to-start",
        Event.rollback,
        ANY_STATUS,
        STARTED,
        Move.target,
        Status.active,
        Target.first,
    ),
    Rule(
        "rollback",
        Event.rollback,
        ANY_STATUS,
        STARTED,
        Move.target,
        Status.rolled_back,
        Target.earlier,
    ),
    Rule("abort", Event.abort, NOT_ABORTED, STARTED, Move.stay, Status.aborted),
)

_VERBS = {Event.rollback: "roll back"}

# Why an event does not apply at a phase position (the status may be fine).
_POSITION_WHY: dict[tuple[Event, Position], str] = {
    (Event.start, Position.middle): (
        "it already started (phase '{phase}'); to start over, roll it back to '{first}'"
    ),
    (Event.start, Position.final): (
        "it already started (phase '{phase}'); to start over, roll it back to '{first}'"
    ),
    (Event.advance, Position.first): "it has not started yet; start it first",
    (Event.advance, Position.final): (
        "it is in the final phase '{phase}', where it stays under monitoring; "
        "there is no phase after it"
    ),
    (Event.pause, Position.first): "it has not started yet, so there is nothing to pause",
    (Event.block, Position.first): "it has not started yet, so there is nothing to block",
    (Event.abort, Position.first): "it has not started yet, so there is nothing to abort",
}

# Why an event does not apply from a status, and the way out of that status.
_STATUS_WHY: dict[Status, str] = {
    Status.active: "it is active",
    Status.paused: "it is paused; resume it first",
    Status.blocked: "it is blocked; resume it first",
    Status.rolled_back: "it was rolled back to '{phase}'; resume it first",
    Status.aborted: "it is aborted; roll it back to an earlier phase to restart it",
}


class PhaseMachine:
    """Applies events to department states according to `RULES`."""

    def __init__(self, phases: Sequence[str]) -> None:
        phases = tuple(phases)
        if len(phases) < 2:
            raise ValueError("a plan needs at least two phases: 'not started' and one more")
        duplicates = sorted({p for p in phases if phases.count(p) > 1})
        if duplicates:
            raise ValueError(f"phase names must be unique; repeated: {', '.join(duplicates)}")
        self.phases: tuple[str, ...] = phases
        self._index = {name: i for i, name in enumerate(phases)}

    @property
    def first(self) -> str:
        return self.phases[0]

    @property
    def final(self) -> str:
        return self.phases[-1]

    def index(self, phase: str) -> int | None:
        return self._index.get(phase)

    def position(self, phase: str) -> Position | None:
        i = self._index.get(phase)
        if i is None:
            return None
        if i == 0:
            return Position.first
        return Position.final if i == len(self.phases) - 1 else Position.middle

    # ------------------------------------------------------------------ queries

    def is_started(self, state: DeptState) -> bool:
        return state.phase != self.first

    def is_in_flight(self, state: DeptState) -> bool:
        """Counts toward `max_active`: started, not yet operating, not aborted.

        A phase the plan no longer has counts as in flight: over-counting support
        load is the safe mistake.
        """
        return (
            self.is_started(state)
            and state.phase != self.final
            and state.status is not Status.aborted
        )

    def is_evaluated(self, state: DeptState) -> bool:
        """Readiness checks evaluate it; the final phase too, as monitoring."""
        return self.is_started(state) and state.status is Status.active

    def has_reached(self, state: DeptState, phase: str) -> bool:
        """At or past `phase` and not aborted; paused or rolled back count by phase."""
        here, there = self.index(state.phase), self.index(phase)
        if here is None or there is None or state.status is Status.aborted:
            return False
        return here >= there

    def rollback_targets(self, state: DeptState) -> list[str]:
        here = self.index(state.phase)
        return list(self.phases[:here]) if here else []

    def allowed(self, state: DeptState) -> list[Event]:
        at = self.position(state.phase)
        if at is None:
            return []
        events = []
        for event in Event:
            targets = self._possible_targets(state) if event is Event.rollback else [Target.none]
            if any(r.matches(event, state.status, at, t) for r in RULES for t in targets):
                events.append(event)
        return events

    # ------------------------------------------------------------------ transitions

    def apply(
        self,
        state: DeptState,
        event: Event,
        *,
        target: str | None = None,
        department: str = "",
    ) -> DeptState:
        event = Event(event)
        who = f"'{department}'" if department else "the department"
        doing = _VERBS.get(event, event.value)
        if event is Event.rollback and target is not None:
            doing = f"{doing} {who} to '{target}'"
        else:
            doing = f"{doing} {who}"

        at = self.position(state.phase)
        if at is None:
            raise TransitionError(
                f"cannot {doing}: its phase '{state.phase}' is not in the plan "
                f"(phases: {', '.join(self.phases)}); fix the plan or re-apply it"
            )
        wanted = self._target_kind(state, event, target, doing)
        for rule in RULES:
            if rule.matches(event, state.status, at, wanted):
                if rule.move is Move.next:
                    phase = self.phases[self._index[state.phase] + 1]
                elif rule.move is Move.target and target is not None:
                    phase = target
                else:
                    phase = state.phase
                return DeptState(phase=phase, status=rule.to_status)
        raise TransitionError(f"cannot {doing}: {self._why(state, event, at, wanted)}")

    def _possible_targets(self, state: DeptState) -> list[Target]:
        here = self.index(state.phase) or 0
        return [Target.first, *([Target.earlier] if here >= 2 else [])] if here else []

    def _target_kind(
        self, state: DeptState, event: Event, target: str | None, doing: str
    ) -> Target:
        if event is not Event.rollback:
            if target is not None:
                raise TransitionError(f"cannot {doing}: only a rollback takes a target phase")
            return Target.none
        earlier = self.rollback_targets(state)
        if not earlier:
            raise TransitionError(
                f"cannot {doing}: it has not started, so there is nothing to roll back"
            )
        choices = f"roll back to one of: {', '.join(earlier)}"
        if target is None:
            raise TransitionError(f"cannot {doing}: name the phase to roll back to; {choices}")
        if target not in self._index:
            raise TransitionError(f"cannot {doing}: there is no phase '{target}'; {choices}")
        if target not in earlier:
            raise TransitionError(
                f"cannot {doing}: it is not earlier than its current phase '{state.phase}'; "
                f"{choices}"
            )
        return Target.first if target == self.first else Target.earlier

    def _why(self, state: DeptState, event: Event, at: Position, wanted: Target) -> str:
        candidates = [r for r in RULES if r.event is event and r.target is wanted]
        fill = {"phase": state.phase, "first": self.first}
        if not any(at in r.at for r in candidates):
            why = _POSITION_WHY.get((event, at), "it is in phase '{phase}'")
            return why.format(**fill)
        status = state.status.value.replace("_", " ")
        if any(r.to_status is state.status for r in candidates):
            return f"it is already {status}"
        if at is Position.first:
            return f"it is marked {status} although it has not started; resume it first"
        return _STATUS_WHY[state.status].format(**fill)
