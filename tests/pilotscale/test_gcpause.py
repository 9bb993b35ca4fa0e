"""`pilotscale.gcpause`: blocks run with the cyclic collector paused and leave it as they
found it, and a request to turn it back on (the installed command's, for a long command)
waits for the paused blocks running then to end."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from pilotscale.gcpause import enable_after_pauses, gc_paused, without_gc


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.parametrize("before", [True, False])
def test_a_pause_leaves_the_collector_as_it_found_it(before: bool) -> None:
    (gc.enable if before else gc.disable)()

    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()

    assert gc.isenabled() is before


def test_turned_on_with_no_pause_running_it_is_on_at_once() -> None:
    gc.disable()

    enable_after_pauses()

    assert gc.isenabled()


def test_turned_on_from_another_thread_during_a_pause_it_waits_for_the_pause_to_end() -> None:
    gc.disable()

    @without_gc
    def long_read() -> list[bool]:
        seen = []
        with gc_paused():
            timer = threading.Thread(target=enable_after_pauses)
            timer.start()
            timer.join()
            seen.append(gc.isenabled())  # the inner pause
        seen.append(gc.isenabled())  # the outer one still runs
        return seen

    assert long_read() == [False, False]
    assert gc.isenabled()  # the last pause ended: on, as asked


def test_a_later_pause_is_not_turned_on_by_an_old_request() -> None:
    gc.disable()
    with gc_paused():
        enable_after_pauses()
    assert gc.isenabled()

    gc.disable()
    with gc_paused():
        pass

    assert not gc.isenabled()
