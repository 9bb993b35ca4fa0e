"""A read on a connection of its own, in a thread, while the caller reads on.

The database does the work of a read with Python's lock released (sqlite3 and psycopg
both release it while a statement runs), so two independent reads on two connections
overlap on a machine with two cores: at 2,000 departments `status` read its training
figures (0.2 s) while the metric aggregates were read (0.45 s) instead of after them.

Only for read-only callers that name it (`parallel=True`): the side read sees what is
committed, not the caller's own uncommitted writes, and on SQLite its snapshot may be a
moment newer than the caller's. A session bound to one connection (not an engine) reads
in line, as without `parallel`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

T = TypeVar("T")


class SideRead(Generic[T]):
    """`read(session)`: started at once on its own connection when it may be, else run in
    the caller's session when its result is asked for (`result()`)."""

    def __init__(self, *, session: Session, read: Callable[[Session], T], parallel: bool) -> None:
        self._session, self._read = session, read
        self._outcome: dict[str, Any] = {}
        bind = session.get_bind()
        self._thread: threading.Thread | None = None
        if parallel and isinstance(bind, Engine):
            self._thread = threading.Thread(
                target=self._run, args=(bind,), name="pilotscale-side-read", daemon=True
            )
            self._thread.start()

    def _run(self, engine: Engine) -> None:
        try:
            with Session(engine) as own:
                self._outcome["value"] = self._read(own)
        except BaseException as exc:  # handed to the caller by result()
            self._outcome["error"] = exc

    def result(self) -> T:
        if self._thread is None:
            return self._read(self._session)
        self._thread.join()
        if "error" in self._outcome:
            raise self._outcome["error"]
        value: T = self._outcome["value"]
        return value
