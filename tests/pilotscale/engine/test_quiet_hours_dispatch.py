"""Quiet hours end to end, on SQLite and PostgreSQL: a message queued at 22:00 in Berlin for
someone quiet from 20:00 to 08:00 waits in the outbox (not failed, not lost) and goes with
the first dispatch after 08:00 there; an urgent one goes at once. Delivered to the local
folder: a real dispatcher, a real store, no mocks."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.core.messages import Message
from pilotscale.engine.dispatcher import DispatchReport, dispatch
from pilotscale.engine.enqueue import enqueue
from pilotscale.notifications.render import Renderer
from pilotscale.notifications.samples import without_links
from pilotscale.store.queries import forget_parsed_plans, get_program, load_program_plan
from tests.cli import run_cli
from tests.notifications.helpers import PLAN, applied, gate_held, rows

QUIET_PLAN = PLAN.replace(
    "  chat_channel: team-chat\n", "  chat_channel: team-chat\n  timezone: Europe/Berlin\n"
).replace(
    "email: ines@example.com, roles: [sponsor, approver]",
    "email: ines@example.com, roles: [sponsor, approver], quiet_hours: '20:00-08:00'",
)
QUEUED = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 22:00 in Berlin
MORNING = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 in Berlin


def blocked(recipient: str) -> Message:
    context = {k: v for k, v in without_links("department_blocked").items() if k != "recipient"}
    return Message("department_blocked", recipient, "finance:blocked:1", "finance", context)


def queue(engine: Engine, messages: list[Message]) -> int:
    forget_parsed_plans()
    program_id, departments = applied(engine, QUIET_PLAN)
    with Session(engine) as session, session.begin():
        program = get_program(session=session, name=None)
        return enqueue(
            session=session,
            plan=load_program_plan(session=session, program=program),
            program_id=program_id,
            department_ids=departments,
            messages=messages,
            now=QUEUED,
        )


def send(engine: Engine, folder: Path, at: datetime) -> DispatchReport:
    return dispatch(
        engine=engine,
        now=at,
        outbox_dir=folder,
        timeout=3,
        renderer=Renderer(),
        local_delivery=True,
        link_maker=None,
    )


def by_event(engine: Engine) -> dict[str, Any]:
    return {r.event: r for r in rows(engine)}


def test_a_message_waits_out_quiet_hours_and_an_urgent_one_does_not(
    engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "outbox"
    assert queue(engine, [gate_held("ines.sponsor"), blocked("ines.sponsor")]) == 2
    held = by_event(engine)["gate_held"]
    assert held.next_attempt_at == MORNING
    assert by_event(engine)["department_blocked"].next_attempt_at == QUEUED

    evening = send(engine, folder, datetime(2026, 11, 23, 21, 5, tzinfo=UTC))  # 22:05

    assert (evening.claimed, evening.sent, evening.retrying, evening.dead) == (1, 1, 0, 0)
    assert (evening.waiting, evening.waiting_until) == (1, MORNING)
    assert "1 held for quiet hours or a digest day, the first until 2026-11-24 07:00 UTC" in (
        evening.summary()
    )
    statuses = {e: (r.status, r.attempts) for e, r in by_event(engine).items()}
    assert statuses == {"department_blocked": ("sent", 1), "gate_held": ("pending", 0)}

    before = send(engine, folder, datetime(2026, 11, 24, 6, 59, tzinfo=UTC))  # 07:59
    assert (before.claimed, before.waiting) == (0, 1)

    after = send(engine, folder, datetime(2026, 11, 24, 7, 1, tzinfo=UTC))  # 08:01

    assert (after.claimed, after.sent, after.waiting) == (1, 1, 0)
    assert {r.status for r in rows(engine)} == {"sent"}
    assert len(list(folder.rglob("*.eml"))) == 2


def test_the_outbox_and_dispatch_say_a_message_is_waiting(
    engine: Engine, store_url: str, tmp_path: Path
) -> None:
    queue(engine, [gate_held("ines.sponsor")])
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "COLUMNS": "200",
        "PILOTSCALE_DATABASE_URL": store_url,
        "PILOTSCALE_DATA_DIR": str(tmp_path / "data"),
        "PILOTSCALE_LOCAL_DELIVERY": "true",
        "PILOTSCALE_OUTBOX_DIR": str(tmp_path / "outbox"),
    }

    listed = run_cli("outbox", "--as-of", "2026-11-23T22:01+01:00", env=env, cwd=tmp_path)
    evening = run_cli("dispatch", "--as-of", "2026-11-23T22:05+01:00", env=env, cwd=tmp_path)
    morning = run_cli("dispatch", "--as-of", "2026-11-24T08:01+01:00", env=env, cwd=tmp_path)

    assert listed.returncode == 0, listed.stderr
    assert "waiting until 2026-11-24 07:00:00Z" in listed.stdout
    assert evening.returncode == 0, evening.stderr
    assert evening.stdout.strip() == (
        "nothing to send now; 1 held for quiet hours or a digest day, the first until "
        "2026-11-24 07:00 UTC"
    )
    assert morning.returncode == 0, morning.stderr
    assert morning.stdout.startswith("dispatched 1: 1 sent (1 to the local folder)")
