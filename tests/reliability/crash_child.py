"""The processes the crash harness kills: one readiness check, then one dispatcher run.

    python -m tests.reliability.crash_child

starts a *zygote*: it imports pilotscale once (about 2 s), then, for every job spec read
from stdin (one JSON line), forks a worker process that runs the job and exits. The
harness SIGKILLs the worker, never the zygote, so each kill costs only the run itself.
The worker is plain Python, not a Prefect flow: Prefect's ephemeral API takes about 8 s
to start in every new process, which would make dozens of kills take many minutes, and
the flows only wrap the same engine calls (`run_readiness_check`, `dispatch`).

Where a worker dies is decided here, by a hook on SQLAlchemy's engine events installed
in the worker (never in product code): with `kill_commit` N it SIGKILLs itself just
*before* the N-th database commit reaches the database, or (with `kill_when` "after")
at the first database statement after it, or at the end if there is none. Without
`kill_commit` the harness kills it from outside, a given time after its READY line.

Protocol on stdout: `ZYGOTE` once; per job `READY <pid>`, then `DONE <commits>
<seconds>` if the worker finished, then always `EXIT <wait status>`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event


class _Killer:
    def __init__(self, kill_commit: int | None, when: str) -> None:
        self.kill_commit = kill_commit
        self.when = when
        self.commits = 0
        self.armed = False  # "after": the commit has been issued, die at the next statement

    def on_commit(self, _connection: Any) -> None:
        if self.armed:
            _die()
        self.commits += 1
        if self.commits == self.kill_commit:
            if self.when == "before":
                _die()
            self.armed = True

    def on_statement(self, *_args: Any) -> None:
        if self.armed:
            _die()


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def work(spec: dict[str, Any]) -> None:
    """One job, in the forked worker."""
    from pilotscale.db import get_engine
    from pilotscale.engine.check import run_readiness_check
    from pilotscale.engine.dispatcher import Backoff, dispatch
    from pilotscale.notifications.render import Renderer

    os.environ.update(spec.get("env", {}))
    if spec.get("mutant"):
        _mutate(spec["mutant"])
    killer = _Killer(spec.get("kill_commit"), spec.get("kill_when", "before"))
    event.listen(Engine, "commit", killer.on_commit)
    event.listen(Engine, "before_cursor_execute", killer.on_statement)
    _say(f"READY {os.getpid()}")
    started = time.monotonic()
    engine = get_engine(spec["url"])
    run_readiness_check(
        engine=engine, now=datetime.fromisoformat(spec["check_at"]), run_id="crash-worker"
    )
    dispatch(
        engine=engine,
        now=datetime.fromisoformat(spec["dispatch_at"]),
        outbox_dir=Path(spec["outbox_dir"]),
        renderer=Renderer(),
        batch_size=spec.get("batch_size", 40),
        concurrency=8,
        timeout=15.0,  # generous: on a loaded machine a slow loopback send is not a fault
        backoff=Backoff(base_seconds=60),
    )
    if killer.armed:
        _die()  # killed "after" the last commit: nothing ran after it
    _say(f"DONE {killer.commits} {time.monotonic() - started:.3f}")


def _mutate(name: str) -> None:
    """Break the product on purpose, in this worker only, to show the harness notices."""
    from sqlmodel import Session

    import pilotscale.engine.check as readiness
    import pilotscale.engine.dispatcher as dispatcher
    from pilotscale.store.outbox import Settlement, settle

    if name == "sent-before-send":  # at-most-once: a kill mid-send loses messages
        real_claim = dispatcher.claim

        def claim(**kw: Any) -> Any:
            jobs = real_claim(**kw)
            done = [Settlement(j.id, j.attempts, "sent", None, None, kw["now"]) for j in jobs]
            settle(engine=kw["engine"], worker_id=kw["worker_id"], settlements=done)
            return jobs

        dispatcher.claim = claim
    elif name == "messages-after-commit":  # a kill between the two transactions loses them
        real_enqueue, real_apply, stash = readiness.enqueue, readiness._Applier.apply, []

        def enqueue(**kw: Any) -> int:
            stash.append(kw)
            return 0

        def apply(self: Any, **kw: Any) -> int:
            count = real_apply(self, **kw)
            while stash:
                args = stash.pop()
                with Session(kw["engine"]) as session, session.begin():
                    count += real_enqueue(**{**args, "session": session})
            return count

        readiness.enqueue = enqueue
        readiness._Applier.apply = apply  # type: ignore[method-assign]
    else:
        raise ValueError(f"unknown mutant {name}")


def main() -> None:
    # Everything a worker needs, imported once, before any fork (and before any thread).
    import pilotscale.engine.check
    import pilotscale.engine.dispatcher
    import pilotscale.notifications.render  # noqa: F401

    _say("ZYGOTE")
    for line in sys.stdin:
        if not line.strip():
            continue
        spec = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                work(spec)
            except BaseException as exc:  # reported to the harness, which fails the test
                _say(f"ERROR {type(exc).__name__}: {exc}")
                code = 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        _say(f"EXIT {status}")


if __name__ == "__main__":
    main()
