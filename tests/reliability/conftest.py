"""Figures for the reliability tests (see figures.py)."""

from __future__ import annotations

import pytest

from tests.reliability.figures import figure, summarize

__all__ = ["figure"]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    summarize(terminalreporter, config, "tests/reliability")
