"""A real process that names itself as an outbox lease holder, for the lease tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

CHILD = (
    "import sys, time; from pilotscale.engine.lease_holders import this_process; "
    "print(this_process(), flush=True); time.sleep(120)"
)


@contextmanager
def holder_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    try:
        assert child.stdout is not None
        yield child, child.stdout.readline().strip()
    finally:
        child.kill()
        child.wait()
