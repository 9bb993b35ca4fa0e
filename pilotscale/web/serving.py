"""Running the web app under uvicorn: in the foreground (`pilotscale web`) or in a thread
beside the flows (`pilotscale serve`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.refusal import Conflict
from pilotscale.store.queries import get_program
from pilotscale.web.webapp import create_app

DEFAULT_HOST = "127.0.0.1"  # loopback: a public address is the proxy's, never ours
DEFAULT_PORT = 8400


class PortInUse(Conflict):
    """Another process listens on the web app's port."""


def check_store(engine: Engine) -> None:
    """Refuse (NoProgram) to serve a store that holds no program yet."""
    with Session(engine) as session:
        get_program(session=session, name=None)


def check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(
                f"port {port} on {host} is in use; choose another with --web-port / --port"
            ) from None


def _config(
    engine: Engine, host: str, port: int, clock: Callable[[], datetime] | None = None
) -> uvicorn.Config:
    # No access log: the paths of action links carry their tokens, which are not for logs.
    return uvicorn.Config(
        create_app(engine=engine, clock=clock),
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        server_header=False,
    )


def run(*, engine: Engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Serve until Ctrl-C."""
    check_store(engine)
    check_port(host, port)
    uvicorn.Server(_config(engine, host, port)).run()


@dataclass
class Background:
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)


def start_in_thread(
    *,
    engine: Engine,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    wait: float = 10.0,
    clock: Callable[[], datetime] | None = None,
) -> Background:
    """Start serving in a daemon thread; returns once it accepts connections. `clock`:
    what the app takes for now (the demo's simulated weeks); default the real time."""
    check_store(engine)
    check_port(host, port)
    server = uvicorn.Server(_config(engine, host, port, clock))
    # uvicorn installs signal handlers only on the main thread: Ctrl-C stays the caller's.
    thread = threading.Thread(target=server.run, name="pilotscale-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + wait
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not server.started:
        server.should_exit = True
        raise PortInUse(f"the web app did not start on {host}:{port}")
    return Background(server, thread)
