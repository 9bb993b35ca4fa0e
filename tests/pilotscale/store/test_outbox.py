"""The outbox table: enqueue is idempotent and transactional; claims never overlap."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.engine.enqueue import enqueue
from pilotscale.models import NotificationStatus
from pilotscale.notifications.render import Renderer
from pilotscale.store.outbox import Settlement, claim, retry, settle
from tests.notifications.helpers import NOW, applied, context_of, gate_held, plan, queue, rows


def test_enqueue_writes_one_row_per_channel_and_a_second_time_nothing(engine: Engine) -> None:
    messages = [gate_held("fran.champion"), gate_held("lola.champion"), gate_held("ines.sponsor")]

    first = queue(engine, messages)
    before = {r.dedupe_key: r.id for r in rows(engine)}
    second = queue(engine, messages)

    assert first == 4  # fran: email + chat; lola: chat; ines: email
    assert second == 0
    assert {r.dedupe_key: r.id for r in rows(engine)} == before
    about = "finance:piloting:weekly-active:2026-11-23"
    assert sorted(before) == sorted(
        [
            f"gate_held|{about}|fran.champion|email",
            f"gate_held|{about}|fran.champion|team-chat",
            f"gate_held|{about}|lola.champion|team-chat",
            f"gate_held|{about}|ines.sponsor|email",
        ]
    )


def test_rows_carry_a_plain_subject_and_the_recipient(engine: Engine) -> None:
    queue(engine, [gate_held("ines.sponsor")])
    (row,) = rows(engine)

    # The subject people read is rendered at send (notifications.delivery), not per row.
    assert row.subject == "gate held: finance:piloting:weekly-active:2026-11-23"
    assert Renderer().subject(row.event, context_of(row)) == (
        'Action needed: Finance is held by "People use it every week"'
    )
    assert row.status == NotificationStatus.pending.value
    assert row.attempts == 0
    assert row.next_attempt_at == NOW
    assert row.created_at == NOW
    assert context_of(row)["recipient"] == {
        "id": "ines.sponsor",
        "name": "Ines Sponsor",
        "email": "ines@example.com",
        "chat": None,
        "kind": "person",
    }
    assert context_of(row)["gate"]["title"] == "People use it every week"


def test_enqueue_belongs_to_the_callers_transaction(engine: Engine) -> None:
    program_id, departments = applied(engine)
    with Session(engine) as session:
        session.begin()
        inserted = enqueue(
            session=session,
            plan=plan(),
            program_id=program_id,
            department_ids=departments,
            messages=[gate_held("ines.sponsor")],
            now=NOW,
        )
        session.rollback()

    assert inserted == 1
    assert rows(engine) == []


def test_a_claim_leases_due_rows_once(engine: Engine) -> None:
    queue(engine, [gate_held("ines.sponsor"), gate_held("leo.lead")])

    first = claim(engine=engine, now=NOW, limit=10, lease_seconds=60, worker_id="a")
    again = claim(engine=engine, now=NOW, limit=10, lease_seconds=60, worker_id="b")
    early = claim(
        engine=engine, now=NOW - timedelta(seconds=1), limit=10, lease_seconds=60, worker_id="c"
    )

    assert len(first) == 2
    assert again == []
    assert early == []
    assert {c.attempts for c in first} == {1}
    assert {(r.status, r.leased_by) for r in rows(engine)} == {("sending", "a")}
    assert {r.lease_until for r in rows(engine)} == {NOW + timedelta(seconds=60)}


def test_an_expired_lease_is_claimed_again_and_the_old_claim_cannot_settle(engine: Engine) -> None:
    queue(engine, [gate_held("ines.sponsor")])
    (old,) = claim(engine=engine, now=NOW, limit=10, lease_seconds=60, worker_id="a")
    later = NOW + timedelta(seconds=61)
    (new,) = claim(engine=engine, now=later, limit=10, lease_seconds=60, worker_id="a")

    stale = settle(
        engine=engine,
        worker_id="a",
        settlements=[Settlement(old.id, old.attempts, "sent", None, None, later)],
    )
    current = settle(
        engine=engine,
        worker_id="a",
        settlements=[Settlement(new.id, new.attempts, "sent", None, None, later)],
    )

    assert new.id == old.id
    assert new.attempts == 2
    assert (stale, current) == (0, 1)
    (row,) = rows(engine)
    assert (row.status, row.sent_at, row.leased_by, row.lease_until) == ("sent", later, None, None)


def test_concurrent_claims_never_share_a_row(engine: Engine) -> None:
    queue(engine, [gate_held(p, about=f"a{i}") for i in range(40) for p in ("ines.sponsor",)])
    claimed: dict[str, list[str]] = {}
    barrier = threading.Barrier(4)

    def worker(name: str) -> None:
        barrier.wait()
        got: list[str] = []
        while batch := claim(engine=engine, now=NOW, limit=3, lease_seconds=60, worker_id=name):
            got += [c.id for c in batch]
        claimed[name] = got

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == 40
    assert len(set(everything)) == 40


def test_retry_requeues_dead_rows_but_never_sent_ones(engine: Engine) -> None:
    queue(engine, [gate_held("ines.sponsor"), gate_held("leo.lead")])
    a, b = claim(engine=engine, now=NOW, limit=10, lease_seconds=60, worker_id="w")
    settle(
        engine=engine,
        worker_id="w",
        settlements=[
            Settlement(a.id, 1, "dead", "boom"),
            Settlement(b.id, 1, "sent", None, None, NOW),
        ],
    )
    later = NOW + timedelta(hours=1)

    with Session(engine) as session, session.begin():
        by_id = retry(session=session, ids=[a.id, b.id], now=later)
    with Session(engine) as session, session.begin():
        dead = retry(session=session, dead=True, now=later)

    assert (by_id, dead) == (1, 0)
    state = {r.id: (r.status, r.attempts, r.next_attempt_at) for r in rows(engine)}
    assert state[a.id] == ("pending", 0, later)
    assert state[b.id][0] == "sent"
