"""`store.side_read.SideRead`: a read on a connection of its own, in a thread, or in the
caller's session when it cannot (or should not) be apart."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from pilotscale.store.side_read import SideRead


def where(own: Session) -> tuple[str, int]:
    return threading.current_thread().name, int(own.execute(text("SELECT 41 + 1")).scalar_one())


def test_a_side_read_runs_in_a_thread_of_its_own_on_its_own_session(engine: Engine) -> None:
    with Session(engine) as session:
        seen: list[Session] = []

        def read(own: Session) -> tuple[str, int]:
            seen.append(own)
            return where(own)

        thread, answer = SideRead(session=session, read=read, parallel=True).result()
        assert thread.startswith("pilotscale-side-read")
        assert answer == 42
        assert len(seen) == 1
        assert seen[0] is not session


def test_side_reads_queue_on_one_side_thread(engine: Engine) -> None:
    """Two statements at once on two cores is what pays; more oversubscribes them."""
    with Session(engine) as session:
        reads = [SideRead(session=session, read=where, parallel=True) for _ in range(3)]
        threads = {read.result()[0] for read in reads}
    assert len(threads) == 1
    assert threads != {threading.current_thread().name}


def test_without_parallel_it_reads_in_the_callers_session_when_asked(engine: Engine) -> None:
    with Session(engine) as session:
        calls: list[Session] = []
        side = SideRead(session=session, read=lambda own: calls.append(own), parallel=False)
        assert calls == []  # nothing read before the result is asked for
        side.result()
        assert calls == [session]


def test_a_session_on_one_connection_reads_in_line(engine: Engine) -> None:
    """A caller's own transaction (its writes not committed) must see what it wrote."""
    with engine.connect() as connection, Session(bind=connection) as session:
        assert SideRead(session=session, read=where, parallel=True).result()[0] == (
            threading.current_thread().name
        )


def test_the_side_reads_error_is_the_callers(engine: Engine) -> None:
    def fails(own: Session) -> None:
        own.execute(text("SELECT * FROM no_such_table"))

    with Session(engine) as session:
        side = SideRead(session=session, read=fails, parallel=True)
        with pytest.raises(Exception, match="no_such_table"):
            side.result()
