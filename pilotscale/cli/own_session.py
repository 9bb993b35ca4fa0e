"""Running a long-lived command in its own session, so that Ctrl-C reaches only it.

`pilotscale serve` runs flow runs as child processes. A terminal's Ctrl-C goes to every
process of its foreground group: the flow runs got it too, mid-import or mid-run, and
died with a KeyboardInterrupt traceback before serve could cancel them in order. So
serve runs the serving process in a new session: the terminal's signals reach only this
front process, which passes SIGINT and SIGTERM on to it, waits for it and exits with its
code; the serving process cancels its runs the way Prefect's runner does (a cancellation,
not a crash). Should the front be killed outright, the kernel sends the serving process
SIGTERM (PR_SET_PDEATHSIG on Linux), which stops it the same way.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from types import FrameType

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_PR_SET_PDEATHSIG = 1


def run_in_own_session(argv: Sequence[str]) -> int:
    """Run `pilotscale ARGV` in a new session until it exits; returns its exit code."""
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "pilotscale.cli", *argv],
        start_new_session=True,
        preexec_fn=_stop_with(os.getpid()),  # safe: the front has started no threads
    )

    def forward(sig: int, _frame: FrameType | None) -> None:
        with suppress(ProcessLookupError):
            child.send_signal(sig)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        code = child.wait()  # retried after each forwarded signal (PEP 475)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 128 - code if code < 0 else code  # killed by a signal: the shell's convention


def _stop_with(parent: int) -> Callable[[], None]:
    def in_child() -> None:
        with suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the front died before the line above took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return in_child
