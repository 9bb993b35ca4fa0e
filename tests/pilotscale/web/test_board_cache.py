"""The board is served again while the store is unchanged, and recomputed as soon as
anything it shows changes (a write by the CLI or the engine, not only by the web)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from pilotscale.core.phases import Event
from pilotscale.demo import LEAD
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.store.change_marker import change_marker
from pilotscale.web.board import Board
from pilotscale.web.board_cache import BoardCache
from tests.pilotscale.web.conftest import NOW, Web


def test_the_board_is_kept_until_the_store_changes(web: Web) -> None:
    ticks = iter(range(0, 10_000, 1))
    cache = BoardCache(page_seconds=30, monotonic=lambda: float(next(ticks)))
    computed: list[Board] = []

    def render(board: Board) -> bytes:
        computed.append(board)
        return str(len(computed)).encode()

    first = cache.page(engine=web.engine, now=NOW, render=render)
    again = cache.page(engine=web.engine, now=NOW, render=render)
    operator.acknowledge(
        engine=web.engine,
        department="hr",
        champion="carmen.diaz",
        actor=cli_actor("carmen.diaz"),
        now=NOW,
    )
    after = cache.page(engine=web.engine, now=NOW, render=render)

    assert (first, again, after) == (b"1", b"1", b"2")


def test_the_board_is_recomputed_after_its_refresh_period(web: Web) -> None:
    moments = iter([0.0, 10.0, 31.0])
    cache = BoardCache(page_seconds=30, monotonic=lambda: next(moments))
    count: list[int] = []

    def render(board: Board) -> bytes:
        count.append(1)
        return str(len(count)).encode()

    bodies = [cache.page(engine=web.engine, now=NOW, render=render) for _ in range(3)]

    assert bodies == [b"1", b"1", b"2"]


def test_the_marker_moves_with_every_kind_of_write(web: Web) -> None:
    def marker() -> tuple[object, ...]:
        with Session(web.engine) as session:
            return change_marker(session=session)

    seen = [marker()]
    operator.acknowledge(
        engine=web.engine,
        department="hr",
        champion="carmen.diaz",
        actor=cli_actor("carmen.diaz"),
        now=NOW,
    )
    seen.append(marker())
    operator.attest(
        engine=web.engine,
        department="sales",
        gate="use-cases-developed",
        actor=cli_actor("raul.vega"),
        evidence="wiki",
        now=NOW,
    )
    seen.append(marker())
    operator.approve(
        engine=web.engine,
        department="customer-service",
        gate="executive-go-ahead",
        actor=cli_actor("elena.garcia"),
        comment="go",
        now=NOW,
    )
    seen.append(marker())
    operator.operate(
        engine=web.engine,
        department="sales",
        event=Event.pause,
        actor=cli_actor(LEAD),
        reason="r",
        now=NOW + timedelta(minutes=1),
    )
    seen.append(marker())

    assert len(set(seen)) == len(seen)
    assert marker() == seen[-1]
