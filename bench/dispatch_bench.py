"""Notification dispatch: a wave announcement to many people, queued in the outbox and
sent to a loopback SMTP sink by the real dispatcher (bounded concurrency), against a
naive loop over one long-lived Apprise instance.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import apprise
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bench.plan import PEOPLE_PER_DEPARTMENT, person_id
from pilotscale.core.messages import Message
from pilotscale.engine.dispatcher import dispatch
from pilotscale.engine.enqueue import enqueue
from pilotscale.models import Department, Program
from pilotscale.notifications.defaults import DEFAULT_CONCURRENCY
from pilotscale.notifications.render import Renderer
from pilotscale.store.queries import load_program_plan

FROM = "bench@bench.example"


def smtp_url(port: int) -> str:
    return f"mailto://127.0.0.1:{port}?mode=insecure&from={FROM}"


@contextmanager
def smtp_sink(workdir: Path) -> Iterator[tuple[int, Path]]:
    """A loopback SMTP sink in its own process: (port, file with one line per message)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    received = workdir / f"smtp-{port}.txt"
    received.write_text("")
    process = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port), str(received)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the SMTP sink did not start") from None
                time.sleep(0.05)
        yield port, received
    finally:
        process.terminate()
        process.wait(10)


@dataclass(frozen=True)
class Queued:
    messages: int
    seconds: float


def queue_announcement(*, engine: Engine, count: int, now: datetime) -> Queued:
    """Queue a `department_advanced` announcement to `count` people (whole departments,
    spread over the plan), through the real enqueue; returns how long that took."""
    with Session(engine) as session:
        program = session.exec(select(Program)).one()
        plan = load_program_plan(session=session, program=program)
        ids = dict(
            session.exec(
                select(Department.name, Department.id).where(
                    col(Department.program_id) == program.id
                )
            ).all()
        )
    wanted = -(-count // PEOPLE_PER_DEPARTMENT)
    step = max(len(plan.departments) // wanted, 1)
    chosen = plan.departments[::step][:wanted]
    messages: list[Message] = []
    for dept in chosen:
        context = {
            "program": {"name": plan.program.name, "title": plan.program.title},
            "department": {
                "name": dept.name,
                "title": dept.title,
                "headcount": dept.headcount,
                "wave": dept.wave,
            },
            "as_of": now.isoformat(),
            "from_phase": "piloting",
            "to_phase": "scaling",
            "to_phase_title": "scaling",
            "gates": [],
        }
        for n in range(PEOPLE_PER_DEPARTMENT):
            if len(messages) < count:
                recipient = person_id(dept.name, n)
                messages.append(
                    Message(
                        "department_advanced", recipient, f"{dept.name}:wave", dept.name, context
                    )
                )
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        queued = enqueue(
            session=session,
            plan=plan,
            program_id=program.id or 0,
            department_ids={k: v for k, v in ids.items() if v is not None},
            messages=messages,
            now=now,
        )
    return Queued(queued, time.perf_counter() - started)


@dataclass(frozen=True)
class Sent:
    sent: int
    received: int
    seconds: float
    concurrency: int


def send_all(*, engine: Engine, now: datetime, received: Path, outbox_dir: Path) -> Sent:
    """Everything due, through the real dispatcher (claim, send concurrently, settle)."""
    report = dispatch(
        engine=engine, now=now, outbox_dir=outbox_dir, timeout=30, renderer=Renderer()
    )
    lines = len(received.read_text().splitlines())
    return Sent(report.sent, lines, report.seconds, DEFAULT_CONCURRENCY)


def naive_apprise(*, port: int, count: int) -> float:
    """Seconds per message for a loop over one long-lived Apprise instance."""
    notifier = apprise.Apprise()
    notifier.add(f"{smtp_url(port)}&to=someone@bench.example")
    started = time.perf_counter()
    for i in range(count):
        if not notifier.notify(body=f"Department {i} moved to scaling.", title="Wave update"):
            raise RuntimeError("the naive Apprise loop failed to send")
    return (time.perf_counter() - started) / count
