"""Kill a readiness check + dispatcher run with SIGKILL at many points, repair, and check.

The harness builds one store (`scenario.build`) and clones it for every kill point, so
each point starts from the same state: a SQLite file copied with the backup API, or a
PostgreSQL database created from the built one as its template.

A kill point is either a database commit (`crash_child` dies just before the N-th commit
reaches the database, or just after it) or a moment (the harness kills it that many
seconds after it said READY, which lands mid-send more often than not). The points are
spread over one calibration run: its commit count and its duration, from a seed.

After a kill the store is repaired the way production repairs it: by running the check
and the dispatcher again, at once (the dispatcher sees that the lease holder is gone and
takes its rows back without waiting out the lease). Then:

- every department's history is a valid path through the state machine;
- the store is where an uninterrupted run leaves it (same phases, transitions, gate
  results, training, onboarding and messages), so no department advanced twice;
- every message was delivered at least once, nothing was delivered that the store does
  not hold, and a message was delivered twice only if it was being sent at the kill
  (its row was still `sending`), under its one notification id, and at most as many
  per kill as the dispatcher sends at once (its concurrency);
- nothing is left `sending` after the first repair.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, make_url
from sqlmodel import Session, col, select

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine.check import CheckReport, run_readiness_check
from pilotscale.engine.dispatcher import DispatchReport, dispatch
from pilotscale.models import Notification
from pilotscale.notifications.render import Renderer
from tests.notifications.receivers import HttpReceiver, SmtpServer
from tests.reliability import scenario

ROOT = Path(__file__).resolve().parents[2]
PG_MAINTENANCE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL = "local"


# --------------------------------------------------------------------------- stores


class StoreCloner:
    """Fresh copies of a built store, one per call of `clone`.

    SQLite files are copied on the spot. PostgreSQL copies cost about a second each to
    create and another to drop on a loaded 2-core machine, so a background thread
    creates the next copy while the current one is used and drops retired ones; `close`
    drops whatever is left.
    """

    def __init__(self, template_url: str, workdir: Path) -> None:
        self.template = make_url(template_url)
        self.workdir = workdir
        self.postgres = self.template.get_backend_name() == "postgresql"
        self._names: list[str] = []  # every PostgreSQL copy made, to drop at the end
        self._ready: Future[str] | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clone")
        # CREATE DATABASE ... TEMPLATE needs the template unused; nothing here uses it again.
        get_engine(template_url, migrate=False).dispose()

    def clone(self) -> str:
        if not self.postgres:
            target = self.workdir / f"pilotscale_clone_{uuid.uuid4().hex[:12]}.db"
            target.parent.mkdir(parents=True, exist_ok=True)
            with (
                sqlite3.connect(self.template.database or "") as source,
                sqlite3.connect(target) as copy,
            ):
                source.backup(copy)
            return f"sqlite:///{target}"
        ready = self._ready or self._pool.submit(self._create)
        self._ready = self._pool.submit(self._create)
        return self.template.set(database=ready.result()).render_as_string(hide_password=False)

    def retire(self, url: str) -> None:
        """`url` is no longer needed: drop it in the background (PostgreSQL only)."""
        if self.postgres:
            get_engine(url, migrate=False).dispose()
            self._pool.submit(self._drop, make_url(url).database or "")

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        dispose_engines()
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            for name in self._names if self.postgres else []:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._names.clear()

    def _create(self) -> str:
        name = f"pilotscale_clone_{uuid.uuid4().hex[:12]}"
        self._names.append(name)
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template.database}"')
        return name

    def _drop(self, name: str) -> None:
        with psycopg.connect(PG_MAINTENANCE_URL, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- receivers


@dataclass
class Receivers:
    """Loopback SMTP and webhook receivers in this process: the killed child sends to
    them, and they keep every delivery, duplicates included."""

    smtp: SmtpServer
    http: HttpReceiver

    def env(self) -> dict[str, str]:
        return {
            scenario.SMTP_ENV: self.smtp.url(),
            scenario.CHAT_ENV: f"json://127.0.0.1:{self.http.port}/hook",
        }

    def mark(self) -> tuple[int, int]:
        return len(self.smtp.mails), len(self.http.requests)

    def delivered_ids(self, since: tuple[int, int] = (0, 0)) -> list[str]:
        """The notification id of every delivery since `mark()` returned `since`."""
        ids = [str(m.message["X-Notification-Id"]) for m in self.smtp.mails[since[0] :]]
        ids += [r.headers.get("X-Notification-Id", "-") for r in self.http.requests[since[1] :]]
        return ids


@contextmanager
def receivers() -> Iterator[Receivers]:
    smtp = SmtpServer().start()
    http = HttpReceiver().start()
    try:
        yield Receivers(smtp, http)
    finally:
        smtp.stop()
        http.stop()


# --------------------------------------------------------------------------- the child


@dataclass(frozen=True)
class KillPoint:
    kind: str  # "commit" or "time"
    commit: int | None = None
    when: str = "before"  # of the commit
    seconds: float | None = None

    def __str__(self) -> str:
        if self.kind == "commit":
            return f"{self.when} commit {self.commit}"
        return f"at {self.seconds:.3f}s"


@dataclass(frozen=True)
class ChildRun:
    killed: bool
    commits: int = 0
    seconds: float = 0.0


def child_env(workdir: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILOTSCALE_")}
    env.update(extra)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PILOTSCALE_DATA_DIR"] = str(workdir / "data")
    return env


class Zygote:
    """`crash_child` in zygote mode: each `run` forks a worker from it and maybe kills it."""

    def __init__(self, *, workdir: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.crash_child"],
            cwd=ROOT,
            env=child_env(workdir, env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._line() == "ZYGOTE"

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"the crash zygote died (exit {self.process.wait()})")
        return line.strip()

    def run(
        self, url: str, *, outbox: Path, point: KillPoint | None, mutant: str | None = None
    ) -> ChildRun:
        spec: dict[str, Any] = {
            "url": url,
            "check_at": scenario.CHECK_AT.isoformat(),
            "dispatch_at": scenario.CHECK_AT.isoformat(),
            "outbox_dir": str(outbox),
            "mutant": mutant,
        }
        if point is not None and point.kind == "commit":
            spec.update(kill_commit=point.commit, kill_when=point.when)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(spec) + "\n")
        self.process.stdin.flush()
        lines = [self._line()]
        if lines[0].startswith("READY") and point is not None and point.seconds is not None:
            time.sleep(point.seconds)
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(lines[0].split()[1]), signal.SIGKILL)  # the worker we forked
        while not lines[-1].startswith("EXIT"):
            lines.append(self._line())
        status = int(lines[-1].split()[1])
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            return ChildRun(killed=True)
        done = [line for line in lines if line.startswith("DONE")]
        if status != 0 or not done:
            raise AssertionError("the crash worker failed: " + " | ".join(lines))
        _, commits, seconds = done[0].split()
        return ChildRun(killed=False, commits=int(commits), seconds=float(seconds))

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()  # the zygote we started, by its handle
            self.process.wait()


@contextmanager
def zygote(*, workdir: Path, env: dict[str, str]) -> Iterator[Zygote]:
    started = Zygote(workdir=workdir, env=env)
    try:
        yield started
    finally:
        started.close()


def kill_points(*, seed: int, commits: int, seconds: float, count: int) -> list[KillPoint]:
    """`count` points from `seed`: half at commits spread over the whole run (alternately
    just before and just after), half at random moments within its duration."""
    rng = random.Random(seed)
    by_commit = count // 2
    last = max(commits - 1, 1)  # the final commits' number varies with timing
    points = [
        KillPoint(
            "commit",
            commit=1 + round(i * (last - 1) / max(by_commit - 1, 1)),
            when=("before", "after")[i % 2],
        )
        for i in range(by_commit)
    ]
    points += [
        KillPoint("time", seconds=rng.uniform(0.02, 0.9) * seconds)
        for _ in range(count - by_commit)
    ]
    rng.shuffle(points)
    return points


def earlier(point: KillPoint) -> KillPoint:
    """The same kind of point at half its commit number or moment."""
    if point.kind == "commit":
        return replace(point, commit=max(1, (point.commit or 1) // 2))
    return replace(point, seconds=(point.seconds or 0.0) / 2)


# --------------------------------------------------------------------------- repair, checks


CONCURRENCY = 8  # the dispatcher's, in crash_child: the bound on repeats per kill


def repair(engine: Engine, *, outbox: Path, hours: int) -> tuple[CheckReport, DispatchReport]:
    """The next scheduled runs: the same day's check again, then the dispatcher `hours`
    later (0: at once, with the dead dispatcher's leases still running)."""
    check = run_readiness_check(engine=engine, now=scenario.CHECK_AT, run_id="repair")
    sent = dispatch(
        engine=engine,
        now=scenario.CHECK_AT + timedelta(hours=hours),
        outbox_dir=outbox,
        renderer=Renderer(),
        concurrency=8,
        timeout=15.0,  # generous: on a loaded machine a slow loopback send is not a fault
    )
    return check, sent


def rows(engine: Engine, *, besides: frozenset[str] = frozenset()) -> list[Notification]:
    """The outbox, without the messages in `besides` (those queued while building)."""
    with Session(engine) as session:
        found = session.exec(select(Notification).order_by(col(Notification.id)))
        return [row for row in found if row.id not in besides]


def in_flight(engine: Engine) -> set[str]:
    """Messages a dead dispatcher was sending: claimed, never settled."""
    return {r.id for r in rows(engine) if r.status == "sending"}


@dataclass
class Figures:
    planned: int = 0
    killed: int = 0
    finished_first: int = 0
    messages: int = 0
    deliveries: int = 0
    resent_in_flight: int = 0
    most_repeats_per_kill: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)


def check_store(engine: Engine, reference: dict[str, Any], label: str) -> list[str]:
    problems = [f"{label}: {p}" for p in scenario.replay_problems(engine)]
    twice = {d: n for d, n in scenario.advances_at(engine, scenario.CHECK_AT).items() if n > 1}
    if twice:
        problems.append(f"{label}: advanced more than once by one check: {twice}")
    actual = scenario.fingerprint(engine)
    for part, expected in reference.items():
        if actual[part] != expected:
            problems.append(
                f"{label}: {part} differ from an uninterrupted run: "
                + _diff(expected, actual[part])
            )
    return problems


def _diff(expected: Any, actual: Any) -> str:
    if isinstance(expected, list) and isinstance(actual, list):
        missing = [x for x in expected if x not in actual][:3]
        extra = [x for x in actual if x not in expected][:3]
        return f"missing {missing}, unexpected {extra}"
    return f"expected {expected}, got {actual}"


def check_deliveries(
    engine: Engine,
    delivered: list[str],
    *,
    outbox: Path,
    flying: set[str],
    besides: frozenset[str],
    label: str,
) -> tuple[list[str], int, int]:
    """(problems, lost, re-sent while in flight) for the messages of one kill point."""
    problems: list[str] = []
    stored = rows(engine, besides=besides)
    by_id = {r.id: r for r in stored}
    counts = Counter(delivered)
    local_files = "\n".join(p.read_text() for p in outbox.glob("*")) if outbox.exists() else ""
    lost = 0
    for row in stored:
        arrived = counts[row.id] if row.channel != LOCAL else int(row.id in local_files)
        if row.status != "sent" or arrived == 0:
            lost += 1
            problems.append(
                f"{label}: {row.event} to {row.recipient_key} on {row.channel} "
                f"is {row.status}, delivered {arrived} times"
            )
    phantom = sorted(set(counts) - set(by_id))
    if phantom:
        problems.append(f"{label}: delivered but not in the store: {phantom[:3]}")
    twice = {i for i, n in counts.items() if n > 1}
    if twice - flying:
        problems.append(
            f"{label}: delivered twice but not in flight at the kill: {sorted(twice - flying)[:3]}"
        )
    return problems, lost, len(twice & flying)


# --------------------------------------------------------------------------- a campaign


def campaign(
    *,
    store_url: str,
    workdir: Path,
    departments: int,
    choose: Callable[[ChildRun], list[KillPoint]],
    mutant: str | None = None,
) -> Figures:
    """Build the scenario in `store_url`, run it once uninterrupted (the reference and
    the calibration), then once per kill point that `choose` picks from the calibration,
    each on a fresh clone: kill, repair, check. The channel variables must already point
    at the receivers' env() in this process (the repair sends from here)."""
    built = get_engine(store_url)
    scenario.build(built, departments)
    setup = frozenset(r.id for r in rows(built))
    cloner = StoreCloner(store_url, workdir / "clones")
    figures = Figures()
    try:
        with receivers() as rx, zygote(workdir=workdir, env=rx.env()) as worker:
            previous = {name: os.environ.get(name) for name in rx.env()}
            os.environ.update(rx.env())
            try:
                reference, calibration = _reference(worker, cloner, rx, workdir, setup)
                points = deque((point, False) for point in choose(calibration))
                i = -1
                while points:
                    point, retried = points.popleft()
                    i += 1
                    label = f"kill point {i} ({point})"
                    url, outbox = cloner.clone(), workdir / f"outbox-{i}"
                    before = rx.mark()
                    run = worker.run(url, outbox=outbox, point=point, mutant=mutant)
                    engine = get_engine(url)
                    flying = in_flight(engine)
                    repair(engine, outbox=outbox, hours=0)
                    left = in_flight(engine)
                    if left:
                        figures.problems.append(
                            f"{label}: {len(left)} messages still sending after the repair"
                        )
                    check, settled = repair(engine, outbox=outbox, hours=2)
                    if settled.claimed or check.enqueued:
                        figures.problems.append(f"{label}: the first repair left work undone")
                    figures.planned += 1
                    figures.killed += run.killed
                    figures.finished_first += not run.killed
                    if not run.killed and not retried:
                        # The run ended before its point (a faster moment of a shared
                        # machine than the calibration's): checked all the same, and the
                        # point tried once more, earlier, so the kills do not depend on load.
                        points.append((earlier(point), True))
                    figures.problems += check_store(engine, reference, label)
                    problems, lost, resent = check_deliveries(
                        engine,
                        rx.delivered_ids(before),
                        outbox=outbox,
                        flying=flying,
                        besides=setup,
                        label=label,
                    )
                    figures.problems += problems
                    figures.lost += lost
                    figures.resent_in_flight += resent
                    figures.most_repeats_per_kill = max(figures.most_repeats_per_kill, resent)
                    if resent > CONCURRENCY:
                        figures.problems.append(
                            f"{label}: {resent} messages delivered twice, more than the "
                            f"{CONCURRENCY} the dispatcher sends at once"
                        )
                    figures.messages += len(rows(engine, besides=setup))
                    figures.deliveries += len(rx.delivered_ids(before))
                    cloner.retire(url)
            finally:
                for name, value in previous.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
    finally:
        cloner.close()
    return figures


def _reference(
    worker: Zygote, cloner: StoreCloner, rx: Receivers, workdir: Path, setup: frozenset[str]
) -> tuple[dict[str, Any], ChildRun]:
    """The uninterrupted run, which every repaired store must match; it also shows that
    running the check and the dispatcher again changes nothing and sends nothing."""
    url, outbox = cloner.clone(), workdir / "outbox-reference"
    before = rx.mark()
    calibration = worker.run(url, outbox=outbox, point=None)
    engine = get_engine(url)
    again, resent = repair(engine, outbox=outbox, hours=1)
    assert (again.tally()["advance"], again.enqueued, resent.claimed) == (0, 0, 0)
    assert scenario.replay_problems(engine) == []
    queued = rows(engine, besides=setup)
    assert Counter(rx.delivered_ids(before)) == Counter(
        {r.id: 1 for r in queued if r.channel != LOCAL}
    )
    assert len(queued) > 100, "the scenario should send plenty"
    return scenario.fingerprint(engine), calibration
