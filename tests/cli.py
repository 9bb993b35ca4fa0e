"""The real `pilotscale` command, run in its own process as a person at a terminal would,
or in this process when a test runs it hundreds of times."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Mapping
from contextlib import redirect_stderr, redirect_stdout
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


def run_cli_here(*args: str) -> subprocess.CompletedProcess[str]:
    """The same entry point (`pilotscale.cli.main.main`) in this process, with this
    process's environment: fast enough to run hundreds of times. stdout and stderr are
    captured as the command writes them; the exit code is left for the test to check."""
    from pilotscale.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    argv, sys.argv = sys.argv, ["pilotscale", *args]
    code: int = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        sys.argv = argv
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())
