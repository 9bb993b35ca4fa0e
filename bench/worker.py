"""One measurement in a fresh process: `python -m bench.worker JOB ARGS-AS-JSON`.

A fresh process per measurement means nothing is cached from an earlier one (the plan,
SQLAlchemy's compiled statements, Prefect's client), Prefect's start-up really is the
first flow call of the process, and the peak RSS is that of this measurement alone.
The last line of output is `BENCH-RESULT {json}`.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.generate import NOW, generate
from bench.lower_bound import lower_bound, signature
from pilotscale.core.decisions import counts
from pilotscale.db import get_engine
from pilotscale.engine.check import apply_check, prepare_check
from pilotscale.store.queries import forget_parsed_plans

MARK = "BENCH-RESULT "

T = TypeVar("T")


def _best(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of `repeats` runs (read-only runs only), and its result."""
    best, result = float("inf"), None
    for _ in range(repeats):
        result = None  # not kept alive during the next run: it would count in the peak RSS
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def job_generate(url: str, departments: int, seed: int) -> dict[str, Any]:
    done = generate(engine=get_engine(url), departments=departments, seed=seed)
    return {
        "rows": done.rows,
        "apply_seconds": done.apply_seconds,
        "facts_seconds": done.facts_seconds,
    }


def job_lower_bound(url: str, repeats: int) -> dict[str, Any]:
    engine = get_engine(url)
    seconds, decisions = _best(repeats, lambda: lower_bound(engine=engine, now=NOW))
    return {"seconds": seconds, "signature": signature(decisions)}


def job_write_lower_bound(url: str) -> dict[str, Any]:
    """The write lower bound, once (it writes: each run needs a fresh store)."""
    from bench.lower_bound_writes import write_lower_bound

    engine = get_engine(url)
    started = time.perf_counter()
    written = write_lower_bound(engine=engine, now=NOW)
    return {
        "seconds": time.perf_counter() - started,
        "rows": written.rows,
        "enqueued": written.rows["notification"],
        "signature": signature(written.decisions),
    }


def job_decide(url: str, repeats: int) -> dict[str, Any]:
    engine = get_engine(url)
    seconds, prepared = _best(repeats, lambda: _cold(prepare_check)(engine=engine, now=NOW))
    return {"seconds": seconds, "signature": signature(prepared.decisions)}


def _cold(function: Callable[..., T]) -> Callable[..., T]:
    """`function`, made to parse the stored plan again as the first read of a new
    process would: repeats must not time a plan already parsed by the first run."""

    def call(**kwargs: Any) -> T:
        forget_parsed_plans()
        return function(**kwargs)

    return call


def job_decide_apply(url: str) -> dict[str, Any]:
    """`run_readiness_check`, with its two halves timed apart."""
    engine = get_engine(url)
    started = time.perf_counter()
    prepared = _cold(prepare_check)(engine=engine, now=NOW)
    decided = time.perf_counter()
    report = apply_check(engine=engine, prepared=prepared)
    applied = time.perf_counter()
    return {
        "seconds": applied - started,
        "decide_seconds": decided - started,
        "apply_seconds": applied - decided,
        "enqueued": report.enqueued,
        "grouping": grouping(engine),
        "conflicts": len(report.conflicts),
        "tally": {str(k): v for k, v in counts(prepared.decisions).items()},
        "signature": signature(prepared.decisions),
    }


def grouping(engine: Any) -> dict[str, int]:
    """What grouping did to the outbox of a store checked once (the bench's stores are):
    its rows, the grouped rows (one per person: `your_open_items`), the items those list,
    and the rows there would be with one message per item, as before grouping."""
    import json

    from sqlmodel import Session, select

    from pilotscale.core.messages import GROUPED
    from pilotscale.models import Notification

    with Session(engine) as session:
        rows = session.exec(select(Notification.event, Notification.context_json)).all()
    grouped = [json.loads(context) for event, context in rows if event == GROUPED]
    items = sum(int(context.get("total", 0)) for context in grouped)
    return {
        "rows": len(rows),
        "grouped_rows": len(grouped),
        "items": items,
        "before": len(rows) - len(grouped) + items,
    }


def _warm_up_prefect() -> float:
    """Prefect's fixed cost: the first flow call of a process (the API starts with it)."""
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> int:
        return 1

    started = time.perf_counter()
    warm_up()
    return time.perf_counter() - started


def job_prefect_warm_up() -> dict[str, Any]:
    return {"startup": _warm_up_prefect()}


def job_flow(url: str) -> dict[str, Any]:
    """The real `readiness-check` flow (delivery left to the dispatch measurement)."""
    started = time.perf_counter()
    from pilotscale.flows.readiness_check import readiness_check

    imported = time.perf_counter() - started
    get_engine(url)  # the configured store (PILOTSCALE_DATABASE_URL), migrated
    startup = _warm_up_prefect()
    rss_before = _rss_mb()
    started = time.perf_counter()
    result = asyncio.run(readiness_check(as_of=NOW, dispatch=False))
    seconds = time.perf_counter() - started
    return {
        "startup": startup,
        "import_seconds": imported,
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "tally": result["tally"],
        "enqueued": result["enqueued"],
        "actions": result["decisions"],
    }


def job_naive(url: str, departments: list[str]) -> dict[str, Any]:
    from bench.naive import naive_check

    get_engine(url)
    startup = _warm_up_prefect()
    started = time.perf_counter()
    actions = naive_check(url, departments, NOW)
    return {"startup": startup, "seconds": time.perf_counter() - started, "actions": actions}


def job_dispatch(url: str, count: int, naive_count: int, folder: str) -> dict[str, Any]:
    from bench.dispatch_bench import (
        naive_apprise,
        queue_announcement,
        send_all,
        smtp_sink,
        smtp_url,
    )
    from bench.plan import SMTP_ENV

    engine = get_engine(url)
    queued = queue_announcement(engine=engine, count=count, now=NOW)
    with smtp_sink(Path(folder)) as (port, received):
        os.environ[SMTP_ENV] = smtp_url(port)
        sent = send_all(
            engine=engine, now=NOW, received=received, outbox_dir=Path(folder) / "outbox"
        )
    with smtp_sink(Path(folder)) as (port, _):
        per_message = naive_apprise(port=port, count=naive_count)
    return {
        "queued": queued.messages,
        "queue_seconds": queued.seconds,
        "sent": sent.sent,
        "received": sent.received,
        "seconds": sent.seconds,
        "concurrency": sent.concurrency,
        "naive_per_message": per_message,
        "naive_count": naive_count,
    }


JOBS: dict[str, Callable[..., dict[str, Any]]] = {
    "generate": job_generate,
    "lower-bound": job_lower_bound,
    "write-lower-bound": job_write_lower_bound,
    "decide": job_decide,
    "decide-apply": job_decide_apply,
    "prefect-warm-up": job_prefect_warm_up,
    "flow": job_flow,
    "naive": job_naive,
    "dispatch": job_dispatch,
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    job, arguments = sys.argv[1], json.loads(sys.argv[2])
    result = JOBS[job](**arguments)
    result["rss_mb"] = _rss_mb()
    print(MARK + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
