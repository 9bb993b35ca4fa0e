"""Figures for the security tests (see tests/reliability/figures.py)."""

from __future__ import annotations

import pytest

from tests.reliability.figures import figure, summarize

__all__ = ["figure"]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    summarize(terminalreporter, config, "tests/security")
