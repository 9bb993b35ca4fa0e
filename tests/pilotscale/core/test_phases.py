from __future__ import annotations

from collections import deque

import pytest

from pilotscale.core.phases import RULES, DeptState, Event, PhaseMachine, TransitionError
from pilotscale.core.states import Status

PHASES = ("planned", "preparing", "piloting", "scaling", "operating")
MACHINE = PhaseMachine(PHASES)
AT = {"first": "planned", "middle": "piloting", "final": "operating"}
STATUS_ORDER = (
    Status.active,
    Status.paused,
    Status.blocked,
    Status.rolled_back,
    Status.aborted,
)

# Every (position, event) row lists the outcome for each status, in STATUS_ORDER.
# "phase/status" is the resulting state; "!text" means TransitionError containing text.
# Rollback rows use the target 'preparing' (the other targets have their own table).
_NOT_STARTED = "it has not started yet"
_MARKED = "although it has not started; resume it first"
_RESUME = "resume it first"
_RB = "it was rolled back to '{phase}'; resume it first"
_ABORTED = "it is aborted; roll it back to an earlier phase to restart it"

EXPECTED: dict[tuple[str, Event], tuple[str, str, str, str, str]] = {
    ("first", Event.start): (
        "preparing/active",
        f"!it is marked paused {_MARKED}",
        f"!it is marked blocked {_MARKED}",
        f"!it is marked rolled back {_MARKED}",
        f"!it is marked aborted {_MARKED}",
    ),
    ("first", Event.advance): (f"!{_NOT_STARTED}; start it first",) * 5,
    ("first", Event.pause): (f"!{_NOT_STARTED}, so there is nothing to pause",) * 5,
    ("first", Event.resume): (
        "!it is already active",
        "planned/active",
        "planned/active",
        "planned/active",
        "planned/active",
    ),
    ("first", Event.block): (f"!{_NOT_STARTED}, so there is nothing to block",) * 5,
    ("first", Event.rollback): ("!it has not started, so there is nothing to roll back",) * 5,
    ("first", Event.abort): (f"!{_NOT_STARTED}, so there is nothing to abort",) * 5,
    ("middle", Event.start): (
        "!it already started (phase 'piloting'); to start over, roll it back to 'planned'",
    )
    * 5,
    ("middle", Event.advance): (
        "scaling/active",
        f"!it is paused; {_RESUME}",
        f"!it is blocked; {_RESUME}",
        "!" + _RB.format(phase="piloting"),
        "!" + _ABORTED,
    ),
    ("middle", Event.pause): (
        "piloting/paused",
        "!it is already paused",
        f"!it is blocked; {_RESUME}",
        "!" + _RB.format(phase="piloting"),
        "!" + _ABORTED,
    ),
    ("middle", Event.resume): (
        "!it is already active",
        "piloting/active",
        "piloting/active",
        "piloting/active",
        "!" + _ABORTED,
    ),
    ("middle", Event.block): (
        "piloting/blocked",
        f"!it is paused; {_RESUME}",
        "!it is already blocked",
        "!" + _RB.format(phase="piloting"),
        "!" + _ABORTED,
    ),
    ("middle", Event.rollback): ("preparing/rolled_back",) * 5,
    ("middle", Event.abort): (
        "piloting/aborted",
        "piloting/aborted",
        "piloting/aborted",
        "piloting/aborted",
        "!it is already aborted",
    ),
    ("final", Event.start): (
        "!it already started (phase 'operating'); to start over, roll it back to 'planned'",
    )
    * 5,
    # The final phase is checked before the status: resuming would not help.
    ("final", Event.advance): (
        "!it is in the final phase 'operating', where it stays under monitoring",
    )
    * 5,
    ("final", Event.pause): (
        "operating/paused",
        "!it is already paused",
        f"!it is blocked; {_RESUME}",
        "!" + _RB.format(phase="operating"),
        "!" + _ABORTED,
    ),
    ("final", Event.resume): (
        "!it is already active",
        "operating/active",
        "operating/active",
        "operating/active",
        "!" + _ABORTED,
    ),
    ("final", Event.block): (
        "operating/blocked",
        f"!it is paused; {_RESUME}",
        "!it is already blocked",
        "!" + _RB.format(phase="operating"),
        "!" + _ABORTED,
    ),
    ("final", Event.rollback): ("preparing/rolled_back",) * 5,
    ("final", Event.abort): (
        "operating/aborted",
        "operating/aborted",
        "operating/aborted",
        "operating/aborted",
        "!it is already aborted",
    ),
}

VERB = {Event.rollback: "roll back 'hr' to 'preparing'"}

CASES = [
    pytest.param(position, status, event, cell, id=f"{position}-{status}-{event}")
    for (position, event), row in EXPECTED.items()
    for status, cell in zip(STATUS_ORDER, row, strict=True)
]


def test_the_table_covers_every_position_status_and_event() -> None:
    covered = {(p, s, e) for p, s, e, _ in (c.values for c in CASES)}
    assert covered == {(p, s, e) for p in AT for s in Status for e in Event}


@pytest.mark.parametrize(("position", "status", "event", "expected"), CASES)
def test_transition(position: str, status: Status, event: Event, expected: str) -> None:
    state = DeptState(AT[position], status)
    target = "preparing" if event is Event.rollback else None
    if expected.startswith("!"):
        with pytest.raises(TransitionError) as refused:
            MACHINE.apply(state, event, target=target, department="hr")
        message = str(refused.value)
        verb = VERB.get(event, f"{event.value} 'hr'")
        assert message.startswith(f"cannot {verb}: "), message
        assert expected[1:] in message
    else:
        phase, to_status = expected.split("/")
        result = MACHINE.apply(state, event, target=target, department="hr")
        assert result == DeptState(phase, Status(to_status))


ROLLBACK_TARGETS = [
    # (from phase, target, expected)
    ("piloting", "planned", "planned/active"),  # back to "not started", no side state
    ("piloting", "preparing", "preparing/rolled_back"),
    ("operating", "scaling", "scaling/rolled_back"),
    ("operating", "planned", "planned/active"),
    ("preparing", "planned", "planned/active"),
    (
        "piloting",
        "scaling",
        "!cannot roll back 'hr' to 'scaling': it is not earlier than its current phase "
        "'piloting'; roll back to one of: planned, preparing",
    ),
    ("piloting", "piloting", "!it is not earlier than its current phase 'piloting'"),
    ("piloting", "nope", "!there is no phase 'nope'; roll back to one of: planned, preparing"),
    (
        "piloting",
        None,
        "!cannot roll back 'hr': name the phase to roll back to; "
        "roll back to one of: planned, preparing",
    ),
]


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize(("phase", "target", "expected"), ROLLBACK_TARGETS)
def test_rollback_targets(phase: str, target: str | None, expected: str, status: Status) -> None:
    state = DeptState(phase, status)
    if expected.startswith("!"):
        with pytest.raises(TransitionError, match=r"^cannot roll back 'hr'") as refused:
            MACHINE.apply(state, Event.rollback, target=target, department="hr")
        assert expected[1:] in str(refused.value)
    else:
        to_phase, to_status = expected.split("/")
        result = MACHINE.apply(state, Event.rollback, target=target, department="hr")
        assert result == DeptState(to_phase, Status(to_status))


@pytest.mark.parametrize("event", [e for e in Event if e is not Event.rollback])
def test_only_rollback_takes_a_target(event: Event) -> None:
    with pytest.raises(TransitionError, match="only a rollback takes a target phase"):
        MACHINE.apply(DeptState("piloting", Status.active), event, target="planned")


def test_without_a_department_name_the_message_still_reads() -> None:
    with pytest.raises(TransitionError, match=r"^cannot advance the department: it is paused"):
        MACHINE.apply(DeptState("piloting", Status.paused), Event.advance)


def test_a_phase_the_plan_no_longer_has_is_refused_with_the_plan_phases() -> None:
    state = DeptState("retired-phase", Status.active)
    with pytest.raises(TransitionError, match="its phase 'retired-phase' is not in the plan"):
        MACHINE.apply(state, Event.advance, department="hr")
    assert MACHINE.allowed(state) == []


def test_two_phase_plan_starts_straight_into_the_final_phase() -> None:
    machine = PhaseMachine(["planned", "operating"])
    started = machine.apply(DeptState("planned", Status.active), Event.start)
    assert started == DeptState("operating", Status.active)
    assert machine.allowed(started) == [Event.pause, Event.block, Event.rollback, Event.abort]
    with pytest.raises(TransitionError, match="final phase 'operating'"):
        machine.apply(started, Event.advance)


@pytest.mark.parametrize(
    ("phases", "message"),
    [
        (["only"], "at least two phases"),
        ([], "at least two phases"),
        (["a", "b", "a"], "repeated: a"),
    ],
)
def test_machine_rejects_bad_phase_lists(phases: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PhaseMachine(phases)


# --------------------------------------------------------------------------- the table itself


ALL_STATES = [DeptState(p, s) for p in PHASES for s in Status]


def _succeeds(state: DeptState, event: Event) -> bool:
    targets = MACHINE.rollback_targets(state) if event is Event.rollback else [None]
    for target in targets:
        try:
            MACHINE.apply(state, event, target=target)
        except TransitionError:
            continue
        return True
    return False


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_allowed_lists_exactly_the_events_apply_accepts(state: DeptState) -> None:
    assert MACHINE.allowed(state) == [e for e in Event if _succeeds(state, e)]


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_at_most_one_rule_matches_so_priority_never_hides_a_rule(state: DeptState) -> None:
    position = MACHINE.position(state.phase)
    assert position is not None
    for event in Event:
        for target in {r.target for r in RULES}:
            matching = [r.name for r in RULES if r.matches(event, state.status, position, target)]
            assert len(matching) <= 1, (event, target, matching)


@pytest.mark.parametrize("state", ALL_STATES, ids=str)
def test_every_state_can_get_back_to_not_started(state: DeptState) -> None:
    goal = DeptState("planned", Status.active)
    seen, queue = {state}, deque([state])
    while queue:
        current = queue.popleft()
        if current == goal:
            return
        for event in MACHINE.allowed(current):
            targets = MACHINE.rollback_targets(current) if event is Event.rollback else [None]
            for target in targets:
                after = MACHINE.apply(current, event, target=target)
                if after not in seen:
                    seen.add(after)
                    queue.append(after)
    pytest.fail(f"{state} is stuck: it can never return to 'planned'")


# --------------------------------------------------------------------------- queries

# (phase, status) -> (started, in flight, evaluated)
QUERIES = {
    ("planned", Status.active): (False, False, False),
    ("planned", Status.paused): (False, False, False),
    ("preparing", Status.active): (True, True, True),
    ("piloting", Status.active): (True, True, True),
    ("piloting", Status.paused): (True, True, False),
    ("piloting", Status.blocked): (True, True, False),
    ("piloting", Status.rolled_back): (True, True, False),
    ("piloting", Status.aborted): (True, False, False),
    ("operating", Status.active): (True, False, True),
    ("operating", Status.paused): (True, False, False),
    ("operating", Status.aborted): (True, False, False),
    ("unknown", Status.active): (True, True, True),
}


@pytest.mark.parametrize(("phase", "status", "expected"), [(*k, v) for k, v in QUERIES.items()])
def test_queries(phase: str, status: Status, expected: tuple[bool, bool, bool]) -> None:
    state = DeptState(phase, status)
    got = (MACHINE.is_started(state), MACHINE.is_in_flight(state), MACHINE.is_evaluated(state))
    assert got == expected


@pytest.mark.parametrize(
    ("state", "phase", "reached"),
    [
        (DeptState("scaling", Status.active), "scaling", True),
        (DeptState("operating", Status.active), "scaling", True),
        (DeptState("piloting", Status.active), "scaling", False),
        (DeptState("scaling", Status.paused), "scaling", True),
        (DeptState("scaling", Status.rolled_back), "scaling", True),
        (DeptState("operating", Status.aborted), "scaling", False),
        (DeptState("operating", Status.active), "nope", False),
        (DeptState("nope", Status.active), "planned", False),
    ],
    ids=str,
)
def test_has_reached(state: DeptState, phase: str, reached: bool) -> None:
    assert MACHINE.has_reached(state, phase) is reached


def test_state_reads_as_phase_and_side_state() -> None:
    assert str(DeptState("piloting", Status.active)) == "piloting"
    assert str(DeptState("piloting", Status.paused)) == "piloting, paused"
