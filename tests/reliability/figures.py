"""The figure each reliability and security test reports (kill points survived, faults
injected, inputs tried, lost): kept on the pytest config and printed in the terminal
summary, so it shows with or without -s."""

from __future__ import annotations

from collections.abc import Callable

import pytest

FIGURES = pytest.StashKey[list[tuple[str, str]]]()


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """figure("24 kill points survived, 0 lost") records a line for this test."""

    def record(text: str) -> None:
        request.config.stash.setdefault(FIGURES, []).append((request.node.nodeid, text))

    return record


def summarize(reporter: pytest.TerminalReporter, config: pytest.Config, folder: str) -> None:
    lines = [(node, text) for node, text in config.stash.get(FIGURES, []) if folder in node]
    if not lines:
        return
    reporter.section(f"{folder} figures")
    for node, text in lines:
        reporter.line(f"{node.split('::', 1)[-1]}: {text}")
