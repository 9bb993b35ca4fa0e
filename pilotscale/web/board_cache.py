"""The board, computed once and served again until the store changes or it is 30 s old.

Reading every department's verdicts takes seconds at 1,000 departments (the readiness
check's own cost), and a wall of boards refreshing every 30 s would each pay it. A cheap
marker read (`store.change_marker`) tells whether anything changed; the page is then
recomputed, at most once at a time. Forecasts (trends over weeks of samples, the
costliest part) are kept for 10 minutes, as long as the same departments are held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from pilotscale.engine.verdicts import read_verdicts
from pilotscale.metrics.forecast import DepartmentForecast
from pilotscale.report.data import held_forecasts
from pilotscale.store.change_marker import change_marker
from pilotscale.store.snapshot import load_view
from pilotscale.web.board import Board, build_board, held_names

PAGE_SECONDS = 30.0
FORECAST_SECONDS = 600.0


@dataclass(frozen=True)
class _Page:
    marker: tuple[Any, ...]
    at: float
    body: bytes


@dataclass(frozen=True)
class _Forecasts:
    held: frozenset[str]
    at: float
    found: dict[str, DepartmentForecast]


class BoardCache:
    def __init__(
        self,
        *,
        page_seconds: float = PAGE_SECONDS,
        forecast_seconds: float = FORECAST_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._page_seconds = page_seconds
        self._forecast_seconds = forecast_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._page: _Page | None = None
        self._forecasts: _Forecasts | None = None

    def page(self, *, engine: Engine, now: datetime, render: Callable[[Board], bytes]) -> bytes:
        """The board's page: the last one while the store is unchanged and it is fresh."""
        with self._lock, Session(engine, expire_on_commit=False) as session:
            marker = change_marker(session=session)
            moment = self._monotonic()
            kept = self._page
            if kept and kept.marker == marker and moment - kept.at < self._page_seconds:
                return kept.body
            view = load_view(session=session, owners_only=True)
            verdicts = read_verdicts(session=session, view=view, now=now)
            held = held_names(view, verdicts)
            forecasts = self._forecasts
            if (
                forecasts is None
                or forecasts.held != held
                or moment - forecasts.at >= self._forecast_seconds
            ):
                found = held_forecasts(session=session, view=view, verdicts=verdicts, now=now)
                forecasts = self._forecasts = _Forecasts(held, moment, found)
            board = build_board(
                session=session,
                view=view,
                now=now,
                verdicts=verdicts,
                forecasts=forecasts.found,
            )
            body = render(board)
            self._page = _Page(marker, moment, body)
            return body
