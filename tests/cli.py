"""The real `pilotscale` command, run in its own process as a person at a terminal would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def run_cli(
    *args: str, env: Mapping[str, str], cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m pilotscale.cli ARGS` with exactly `env`; output captured as text, and the
    exit code left for the test to check."""
    return subprocess.run(
        [sys.executable, "-m", "pilotscale.cli", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
