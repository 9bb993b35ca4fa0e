"""How pilotscale's tasks retry and cache: one policy for every task that writes the store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote
from sqlalchemy.exc import OperationalError

from pilotscale.db import StoreUnavailable

T = TypeVar("T")


def retry_if_transient(task: object, task_run: object, state: object) -> bool:
    """Retry only what a retry can fix: the database being briefly unavailable or locked.

    StoreUnavailable is the same outage met while the process first connects (each
    flow run on a worker is often a new process), rather than in the middle of a run.
    Every store-writing task is idempotent (version checks, unique keys), so a retry
    after a partial attempt repeats nothing.
    """
    try:
        state.result()  # type: ignore[attr-defined]
    except (OperationalError, StoreUnavailable):
        return True
    except Exception:
        return False
    return False


def store_task(name: str) -> Callable[[Callable[..., Any]], Any]:
    """A task that reads or writes the store: no result caching (results are not inputs'
    functions: the store changes), two retries on transient database errors."""
    return task(
        name=name,
        cache_policy=NO_CACHE,
        retries=2,
        retry_delay_seconds=[2, 10],
        retry_condition_fn=retry_if_transient,
    )


def unwalked(value: T) -> T:
    """`value`, passed to a task without Prefect walking it for futures and states.

    Prefect visits every element of every task argument on each call (twice); for a
    check's thousands of gate results that is a quarter of the check. The price is the
    dependency arrow in the UI that the walk would have drawn. Typed as the value so a
    task's signature still checks."""
    return cast(T, quote(value))
