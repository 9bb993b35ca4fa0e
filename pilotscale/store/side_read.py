"""A read on a connection of its own, in a second thread, while the caller reads on.

The database does the work of a read with Python's lock released (sqlite3 and psycopg
both release it while a statement runs), so two independent reads on two connections
overlap on a machine with two cores. One side thread, not one per read: at 2,000
departments, `status` with each side read in a thread of its own ran four statements at
once on two cores, and each took three times as long (the reads 0.68 s in all); in one
side thread, queued, they overlap the caller's own reads (0.46 s).

Only for read-only callers that name it (`parallel=True`): the side read sees what is
committed, not the caller's own uncommitted writes, and on SQLite its snapshot may be a
moment newer than the caller's. A session bound to one connection (not an engine) reads
in line, as without `parallel`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

T = TypeVar("T")

_SIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pilotscale-side-read")


class SideRead(Generic[T]):
    """`read(session)`: queued at once for the side thread, on a session of its own, when
    it may be; else run in the caller's session when its result is asked for."""

    def __init__(self, *, session: Session, read: Callable[[Session], T], parallel: bool) -> None:
        self._session, self._read = session, read
        bind = session.get_bind()
        self._future: Future[T] | None = None
        if parallel and isinstance(bind, Engine):
            self._future = _SIDE.submit(_on_own_session, bind, read)

    def result(self) -> T:
        if self._future is None:
            return self._read(self._session)
        return self._future.result()


def _on_own_session(engine: Engine, read: Callable[[Session], T]) -> T:
    with Session(engine) as own:
        return read(own)
