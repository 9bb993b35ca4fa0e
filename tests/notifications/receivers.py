"""Real receivers on loopback: an SMTP server (aiosmtpd), an HTTP webhook receiver, and a
TCP server that accepts connections and never answers."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --------------------------------------------------------------------------- SMTP


@dataclass
class Mail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return str(cast(EmailMessage, part).get_content())
        raise AssertionError(f"no {content_type} part in {self.message.get_content_type()}")


class _Inbox:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = cast(EmailMessage, message_from_bytes(envelope.content, policy=policy.default))
        with self.lock:
            self.mails.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`; start() and stop() may be called again (down, up)."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.inbox = _Inbox()
        self._controller: Controller | None = None

    @property
    def mails(self) -> list[Mail]:
        with self.inbox.lock:
            return list(self.inbox.mails)

    def url(self, **query: str) -> str:
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        return f"mailto://127.0.0.1:{self.port}?mode=insecure&from=pilotscale@acme.example{extra}"

    def start(self) -> SmtpServer:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


# --------------------------------------------------------------------------- HTTP


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class _Script:
    """Status codes to answer with, in order; the last one repeats. 0 means: hang."""

    statuses: list[int] = field(default_factory=lambda: [200])
    offset: int = 0  # requests answered before the current statuses were set
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def next_status(self, request: Request) -> int:
        with self.lock:
            self.requests.append(request)
            index = min(len(self.requests) - 1 - self.offset, len(self.statuses) - 1)
            return self.statuses[index]


class HttpReceiver:
    """A webhook receiver for Apprise json:// and mmost:// on 127.0.0.1."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.script = _Script(statuses=statuses or [200])
        script = self.script

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                request = Request(self.path, dict(self.headers.items()), json.loads(raw or b"{}"))
                status = script.next_status(request)
                if status == 0:
                    script.release.wait(30)  # a receiver that never answers
                    return
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[Request]:
        with self.script.lock:
            return list(self.script.requests)

    def answer(self, *statuses: int) -> None:
        """From now on answer with `statuses` (the last repeats)."""
        with self.script.lock:
            self.script.statuses = list(statuses)
            self.script.offset = len(self.script.requests)

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.script.release.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def silent_tcp_server() -> Iterator[int]:
    """A port that accepts connections and never says anything (an SMTP server stuck
    before its greeting, a proxy that swallows requests)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for connection in accepted:
            connection.close()
        listener.close()
