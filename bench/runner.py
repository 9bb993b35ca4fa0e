"""Run one measurement in a worker process, with a time limit, and read back its result
and its peak RSS (from wait4, so a worker stopped at the time limit still reports it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.worker import MARK

ROOT = Path(__file__).resolve().parent.parent  # `python -m bench.worker` runs from here
PROFILE_ENV = "BENCH_PROFILE"  # a folder: each job's py-spy profile is written there
MAX_ERROR = 400  # characters of a failed worker's last lines kept (SQL errors can be huge)


@dataclass(frozen=True)
class Outcome:
    job: str
    result: dict[str, Any] | None  # None: failed or stopped at the time limit
    wall: float
    rss_mb: float
    timed_out: bool = False
    error: str = ""
    limit: float = 0.0  # the time limit it ran under

    @property
    def ok(self) -> bool:
        return self.result is not None


def run(
    job: str,
    *,
    workdir: Path,
    timeout: float,
    env: dict[str, str] | None = None,
    **arguments: Any,
) -> Outcome:
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = f"{time.strftime('%H%M%S')}-{job}"
    out_path, err_path = logs / f"{stamp}.out", logs / f"{stamp}.err"
    command = [sys.executable, "-m", "bench.worker", job, json.dumps(arguments)]
    profiles = os.environ.get(PROFILE_ENV)
    if profiles:
        # Sampled from outside (py-spy), so the job runs its own code unchanged; the raw
        # stacks are read with `python -m bench.hotspots`.
        Path(profiles).mkdir(parents=True, exist_ok=True)
        out = Path(profiles) / f"{stamp}.txt"
        spy = [str(Path(sys.executable).with_name("py-spy")), "record", "--rate", "100"]
        command = [*spy, "--format", "raw", "--output", str(out), "--", *command]
    started = time.perf_counter()
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {})},
            cwd=ROOT,
            start_new_session=True,  # its own group: stopping it stops its Prefect server too
        )
        timed_out, rss_kib, status = _wait(process.pid, timeout)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.perf_counter() - started
    result = None
    for line in out_path.read_text().splitlines():
        if line.startswith(MARK):
            result = json.loads(line[len(MARK) :])
    rss = float(result.get("rss_mb", rss_kib / 1024)) if result else rss_kib / 1024
    error = ""
    if result is None:
        tail = [line[:MAX_ERROR] for line in err_path.read_text().strip().splitlines()[-5:]]
        error = "stopped at the time limit" if timed_out else " | ".join(tail) or f"exit {status}"
        error = error[:MAX_ERROR] + (" …" if len(error) > MAX_ERROR else "")
    return Outcome(job, result, wall, rss, timed_out, error, timeout)


def _wait(pid: int, timeout: float) -> tuple[bool, int, int]:
    """(stopped at the time limit, peak RSS in KiB, wait status)."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return False, usage.ru_maxrss, status
            if time.monotonic() > deadline:
                os.killpg(pid, signal.SIGKILL)
                _, status, usage = os.wait4(pid, 0)
                return True, usage.ru_maxrss, status
            time.sleep(0.05)
    except BaseException:  # e.g. Ctrl-C: the worker runs in its own session, stop it too
        os.killpg(pid, signal.SIGKILL)
        os.wait4(pid, 0)
        raise
