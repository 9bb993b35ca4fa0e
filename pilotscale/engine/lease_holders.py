"""Who holds an outbox lease, and whether that process is gone.

A dispatcher leases the rows it sends under its holder name: host, process id and the
process's start time. A dispatcher killed mid-send leaves its rows `sending`; the next
dispatcher on the same host sees that the holder is gone and takes them back at once,
instead of waiting out the lease. The start time tells a dead holder from an unrelated
process that was later given the same id. A holder on another host cannot be checked
from here: its rows wait for their lease, as before.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    started: str  # the kernel's start time of the process, in clock ticks; "" if unknown

    def __str__(self) -> str:
        base = f"{self.host}:{self.pid}"
        return f"{base}:{self.started}" if self.started else base

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        """`host:pid[:started]`; None for a name that is not one (a custom worker id)."""
        host, _, rest = text.partition(":")
        pid, _, started = rest.partition(":")
        if not host or not pid.isdigit() or (started and not started.isdigit()):
            return None
        return cls(host, int(pid), started)


def this_process() -> Holder:
    return Holder(socket.gethostname(), os.getpid(), _start_time(os.getpid()) or "")


def is_gone(holder_name: str) -> bool:
    """True only when the holder certainly no longer runs: same host, and its process
    has exited, is a zombie, or is another process that reused its id."""
    holder = Holder.parse(holder_name)
    if holder is None or holder.host != socket.gethostname():
        return False
    if holder.pid == os.getpid():
        return False  # this process: its own leases are not a dead holder's
    stat = _stat(holder.pid)
    if stat is None:
        return not _pid_alive(holder.pid)
    state, started = stat
    if state in ("Z", "X"):  # exited, not yet reaped by its parent
        return True
    return bool(holder.started) and started != holder.started


def _start_time(pid: int) -> str | None:
    stat = _stat(pid)
    return stat[1] if stat else None


def _stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) from /proc; None where there is no /proc or no such process."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = raw[raw.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]  # fields 3 (state) and 22 (starttime) of proc(5)


def _pid_alive(pid: int) -> bool:
    # Asked of the kernel, not /proc: /proc may hide other users' processes (hidepid).
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
