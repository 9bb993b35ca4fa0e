"""A loopback SMTP server in its own process (so it does not compete with the dispatcher
for the GIL) that writes one line per message received: its X-Notification-Id and its
recipients. The benchmark counts the lines; the throughput test checks the ids.

    python -m bench.smtp_sink PORT FILE
"""

from __future__ import annotations

import re
import signal
import sys
import threading
from typing import Any

from aiosmtpd.controller import Controller

_ID = re.compile(rb"^X-Notification-Id: *(\S+)", re.MULTILINE | re.IGNORECASE)


class _Sink:
    def __init__(self, path: str) -> None:
        self.stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - open for the process
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # A regex, not the email parser: the sink must be faster than what it measures.
        found = _ID.search(envelope.content)
        notification_id = found.group(1).decode() if found else "-"
        line = f"{notification_id} {','.join(envelope.rcpt_tos)}\n"
        with self.lock:
            self.stream.write(line)
            self.stream.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(_Sink(path), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
