"""The one vocabulary of states: a table of what decides each word, and the README says
the same words with the same meanings."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotscale.core.vocabulary import (
    GATE_MEANINGS,
    STATE_MEANINGS,
    GateState,
    State,
    department_state,
    gate_state,
)

README = Path(__file__).resolve().parents[3] / "README.md"

# status, started, final phase, overall gate outcome -> word
DEPARTMENTS = [
    ("active", False, False, None, State.not_started),
    ("active", True, False, "pass", State.in_flight),
    ("active", True, False, "fail", State.held),
    ("active", True, False, "pending", State.held),
    ("active", True, False, None, State.held),  # not evaluated is not a pass
    ("active", True, True, "pass", State.operating_healthy),
    ("active", True, True, "pending", State.operating_watched),
    ("active", True, True, "fail", State.operating_watched),
    ("blocked", True, False, "fail", State.blocked),
    ("blocked", True, False, "pass", State.blocked),  # resumed only by an operator
    ("paused", True, False, "pass", State.paused),
    ("paused", True, True, "pass", State.paused),
    ("rolled_back", True, False, "fail", State.rolled_back),
    ("aborted", True, False, None, State.aborted),
    ("paused", False, False, None, State.paused),
]


@pytest.mark.parametrize(("status", "started", "final", "outcome", "word"), DEPARTMENTS)
def test_a_department_has_one_word(
    status: str, started: bool, final: bool, outcome: str | None, word: State
) -> None:
    assert department_state(status=status, started=started, final=final, outcome=outcome) is word


GATES = [
    ("pass", False, GateState.passes),
    ("fail", False, GateState.fails),
    ("pending", False, GateState.pending),
    ("pending", True, GateState.stuck),
    ("fail", True, GateState.fails),  # stuck is a kind of pending only
    ("pass", True, GateState.passes),
]


@pytest.mark.parametrize(("outcome", "stuck", "word"), GATES)
def test_a_gate_has_one_word(outcome: str, stuck: bool, word: GateState) -> None:
    assert gate_state(outcome=outcome, stuck=stuck) is word


def test_every_word_has_a_meaning() -> None:
    assert set(STATE_MEANINGS) == set(State)
    assert set(GATE_MEANINGS) == set(GateState)


def test_the_readme_defines_the_same_words() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## The words for states", 1)[1].split("\n## ", 1)[0]
    for word, meaning in [*STATE_MEANINGS.items(), *GATE_MEANINGS.items()]:
        assert f"| {word} | {meaning} |" in section, word
