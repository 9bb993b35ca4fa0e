"""A Prefect server (`prefect server start`) as a child process on this machine.

Schedules need Prefect's scheduler, which the in-process ephemeral API does not run, so
`pilotscale serve` with no PREFECT_API_URL starts a real local server for as long as it
serves. The server gets its own process group, so stopping it also stops the web
server process it starts underneath.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 4200


class LocalServerError(RuntimeError):
    """The server could not be started; the message says why, in one line."""


@dataclass
class LocalServer:
    process: subprocess.Popen[bytes]
    url: str  # the UI, e.g. http://127.0.0.1:4200
    log: Path | None = None

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's process group, SIGKILL if it is still there after `timeout`."""
        if self.process.poll() is not None:
            return
        _signal_group(self.process, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(self.process, signal.SIGKILL)
            self.process.wait(5)


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now. SO_REUSEADDR, as uvicorn sets it:
    connections of a server that just stopped (TIME_WAIT) do not hold the port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def start_local_server(
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    startup_timeout: float = 90.0,
) -> LocalServer:
    """Start `prefect server start` on host:port and wait until its API answers."""
    if not port_free(host, port):
        raise LocalServerError(
            f"port {port} on {host} is in use; pass another --port, or point PREFECT_API_URL "
            "at the Prefect server that is already running there"
        )
    child_env = {**os.environ, **(env or {}), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    # The child is the server: it must not try to reach another API itself.
    child_env.pop("PREFECT_API_URL", None)
    # Prefect's UI calls the API at PREFECT_UI_API_URL, whose default is port 4200 on
    # 127.0.0.1 whatever --port says: on any other port the UI would show no data.
    child_env.setdefault("PREFECT_UI_API_URL", f"http://{host}:{port}/api")
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    try:
        command = [sys.executable, "-m", "prefect", "server", "start"]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [*command, "--host", host, "--port", str(port)],
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        if log is not None and not isinstance(output, int):
            output.close()
    server = LocalServer(process=process, url=f"http://{host}:{port}", log=log)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if server.healthy():
            return server
        if process.poll() is not None:
            raise LocalServerError(
                f"the Prefect server exited with code {process.returncode} while starting"
                + (f"; see {log}" if log else "")
            )
        time.sleep(0.25)
    server.stop()
    raise LocalServerError(f"the Prefect server did not answer within {startup_timeout:.0f}s")


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # its own group: start_new_session above
