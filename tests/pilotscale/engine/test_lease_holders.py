"""Telling a dispatcher that died from one that still sends: real processes, real pids."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Callable

import pytest

from pilotscale.engine.lease_holders import Holder, is_gone, this_process
from tests.pilotscale.engine.holder_process import holder_process


def test_a_running_holder_is_not_gone_and_a_killed_one_is() -> None:
    with holder_process() as (child, name):
        parsed = Holder.parse(name)
        assert parsed is not None
        assert (parsed.host, parsed.pid) == (socket.gethostname(), child.pid)
        assert parsed.started.isdigit()
        assert not is_gone(name)
        child.send_signal(signal.SIGKILL)
        # Not reaped yet: a zombie is gone too.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert is_gone(name)
        child.wait()
        assert is_gone(name)


@pytest.mark.parametrize(
    ("name", "gone"),
    [
        # A process that runs, but is not the holder: the holder's pid was reused.
        (lambda: f"{socket.gethostname()}:{os.getppid()}:1", True),
        # An older name without a start time, of a process that runs: not gone.
        (lambda: f"{socket.gethostname()}:{os.getppid()}", False),
        # Another host cannot be checked from here: wait for its lease.
        (lambda: f"elsewhere.example:{os.getppid()}:1", False),
        # This process's own leases.
        (lambda: str(this_process()), False),
        # Names that are not holders (a custom worker id): never reclaimed early.
        (lambda: "crash-worker-12", False),
        (lambda: f"{socket.gethostname()}:notapid", False),
    ],
)
def test_only_a_certainly_dead_holder_is_gone(name: Callable[[], str], gone: bool) -> None:
    assert is_gone(name()) is gone
