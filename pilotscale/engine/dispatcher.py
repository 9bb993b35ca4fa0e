"""The dispatcher: claim due notifications, send them concurrently, settle each one.

One call drains what is due now, batch by batch. A failed send is retried later with
exponential backoff; after `max_attempts` the message is dead and the program lead
gets one delivery_failure alert for the batch (an alert that dies alerts nobody, so
this cannot loop). Results are written as sends complete, so a crash loses at most
the sends in flight, and those are re-sent under the same notification id.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import Engine
from sqlmodel import Session
from tenacity import RetryCallState, Retrying, wait_exponential

from pilotscale.core.messages import Job
from pilotscale.engine.enqueue import enqueue
from pilotscale.engine.lease_holders import is_gone, this_process
from pilotscale.engine.message_links import LinkMaker, configured_link_maker, dispatch_context
from pilotscale.models import NotificationStatus, Program, utcnow
from pilotscale.notifications import alerts
from pilotscale.notifications.channels import ChannelUnavailable, ResolvedChannel, resolve
from pilotscale.notifications.defaults import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    DEFAULT_LEASE_SECONDS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT,
)
from pilotscale.notifications.delivery import SendResult, SendStatus, deliver
from pilotscale.notifications.render import Renderer, configured_renderer
from pilotscale.notifications.routing import LOCAL
from pilotscale.plan.schema import Channel, Plan
from pilotscale.redact import scrub
from pilotscale.secrets import SecretLoader, load_prefect_secret
from pilotscale.store.outbox import Settlement, claim, lease_holders, settle, waiting
from pilotscale.store.queries import load_program_plan


@dataclass(frozen=True)
class Backoff:
    """Wait base * 2**(attempt-1) seconds before the next attempt, at most `cap`.

    The wait is stored as the row's next_attempt_at, not slept: the next dispatcher run
    takes the row when it is due, so a retry survives a restart."""

    base_seconds: float = 30.0
    cap_seconds: float = 3600.0

    def delay(self, attempt: int) -> timedelta:
        state = RetryCallState(Retrying(), None, (), {})
        state.attempt_number = max(1, min(attempt, 31))  # 2**30 at most, as before
        wait = wait_exponential(multiplier=self.base_seconds, max=self.cap_seconds)
        return timedelta(seconds=wait(state))


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0  # failed, will be tried again
    uncertain: int = 0  # timed out, will be tried again with the same id
    dead: int = 0
    alerts: int = 0
    local_files: int = 0  # of `sent`: written to the local folder
    reclaimed: int = 0  # left `sending` by a dispatcher that is gone, taken back at once
    held_elsewhere: int = 0  # being sent by another dispatcher that still runs
    held_until: datetime | None = None  # the latest of those leases
    # Queued, not due yet: their recipients' quiet hours or digest day (not failures).
    waiting: int = 0
    waiting_until: datetime | None = None  # when the first of them is due
    batches: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)  # a few, already scrubbed

    @property
    def rate(self) -> float:
        return self.claimed / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        parts = [f"{self.sent} sent"]
        if self.local_files:
            parts[0] += f" ({self.local_files} to the local folder)"
        for count, label in (
            (self.retrying, "to retry"),
            (self.uncertain, "uncertain"),
            (self.dead, "dead"),
            (self.alerts, "alerts queued"),
        ):
            if count:
                parts.append(f"{count} {label}")
        if self.reclaimed:
            parts.append(f"{self.reclaimed} taken back from a dispatcher that stopped mid-send")
        if self.held_elsewhere and self.held_until is not None:
            parts.append(
                f"{self.held_elsewhere} being sent by another dispatcher (lease until "
                f"{self.held_until:%Y-%m-%d %H:%M} UTC)"
            )
        if self.waiting:
            parts.append(self.waiting_line())
        return f"{', '.join(parts)} in {self.seconds:.2f}s"

    def waiting_line(self) -> str:
        """'N held for quiet hours or a digest day, the first until ...' or ''."""
        if not self.waiting or self.waiting_until is None:
            return ""
        return (
            f"{self.waiting} held for quiet hours or a digest day, the first until "
            f"{self.waiting_until:%Y-%m-%d %H:%M} UTC"
        )


def default_worker_id() -> str:
    """This process as a lease holder: host, pid and start time (see lease_holders)."""
    return str(this_process())


def dispatch(
    *,
    engine: Engine,
    now: datetime | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    worker_id: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    backoff: Backoff | None = None,
    renderer: Renderer | None = None,
    outbox_dir: Path | None = None,
    secret_loader: SecretLoader = load_prefect_secret,
    max_batches: int | None = None,
    local_delivery: bool | None = None,
    link_maker: LinkMaker | Literal["configured"] | None = "configured",
) -> DispatchReport:
    """Send everything due at `now` (default: the current time); returns what happened.

    A channel whose URL is not set fails its messages (retried, then dead with an
    alert) unless `local_delivery` (default: PILOTSCALE_LOCAL_DELIVERY) writes them to
    the local folder instead. Messages carry signed links to the web app made by
    `link_maker` (default: from PILOTSCALE_BASE_URL and the link key; None: no links).
    """
    from pilotscale.settings import get_settings

    settings = get_settings()
    concurrency = max(1, concurrency)
    # A lease must outlast the slowest batch: every send in it timing out, in waves.
    slowest_batch = math.ceil(batch_size / concurrency) * timeout * 1.5
    run = _Run(
        engine=engine,
        start=now or utcnow(),
        concurrency=concurrency,
        worker_id=worker_id or default_worker_id(),
        lease_seconds=max(lease_seconds, slowest_batch),
        max_attempts=max(1, max_attempts),
        timeout=timeout,
        backoff=backoff or Backoff(),
        renderer=renderer or configured_renderer(),
        outbox_dir=outbox_dir or settings.resolved_outbox_dir(),
        secret_loader=secret_loader,
        local_delivery=settings.local_delivery if local_delivery is None else local_delivery,
        link_maker=configured_link_maker() if link_maker == "configured" else link_maker,
    )
    gone = run.look_at_other_holders()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="notify") as pool:
        while max_batches is None or run.report.batches < max_batches:
            jobs = claim(
                engine=engine,
                now=run.clock(),
                limit=batch_size,
                lease_seconds=run.lease_seconds,
                worker_id=run.worker_id,
                reclaim_from=gone,
            )
            if not jobs:
                break
            run.report.batches += 1
            run.report.claimed += len(jobs)
            run.send_batch(pool, jobs)
    with engine.connect() as connection:
        run.report.waiting, run.report.waiting_until = waiting(
            connection=connection, now=run.clock()
        )
    run.report.seconds = time.monotonic() - run.started
    return run.report


class _Run:
    def __init__(
        self,
        *,
        engine: Engine,
        start: datetime,
        concurrency: int,
        worker_id: str,
        lease_seconds: float,
        max_attempts: int,
        timeout: float,
        backoff: Backoff,
        renderer: Renderer,
        outbox_dir: Path,
        secret_loader: SecretLoader,
        local_delivery: bool,
        link_maker: LinkMaker | None,
    ) -> None:
        self.engine = engine
        self.start = start
        self.started = time.monotonic()
        self.concurrency = concurrency
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.backoff = backoff
        self.renderer = renderer
        self.outbox_dir = outbox_dir
        self.secret_loader = secret_loader
        self.local_delivery = local_delivery
        self.link_maker = link_maker
        self.report = DispatchReport()
        self._plans: dict[int, Plan] = {}
        # Each channel's URL is read once per run, not once per message.
        self._channels: dict[tuple[int, str], ResolvedChannel | ChannelUnavailable | None] = {}

    def clock(self) -> datetime:
        """`start` moved on by the time this run has taken: with a simulated start
        (--as-of) leases and backoff still measure real elapsed time."""
        return self.start + timedelta(seconds=time.monotonic() - self.started)

    # ------------------------------------------------------------------ batches

    def look_at_other_holders(self) -> list[str]:
        """Holders of live leases that are gone (their rows are taken back now); the
        others are counted in the report, so their rows are not silently left waiting."""
        gone: list[str] = []
        for holder, (count, until) in lease_holders(engine=self.engine, now=self.clock()).items():
            if holder == self.worker_id:
                continue
            if is_gone(holder):
                gone.append(holder)
                self.report.reclaimed += count
            else:
                self.report.held_elsewhere += count
                latest = self.report.held_until
                self.report.held_until = until if latest is None else max(latest, until)
        return gone

    def send_batch(self, pool: ThreadPoolExecutor, claimed: Sequence[Job]) -> None:
        """Send `claimed` with at most `concurrency` messages delivered but not yet
        recorded as sent: a new send starts only once earlier results are committed, so
        a kill repeats at most the messages that were in flight."""
        queued = deque(claimed)
        flying: dict[Future[SendResult], Job] = {}
        pending: list[Settlement] = []
        dead: list[tuple[Job, str | None]] = []
        while queued or flying:
            while queued and len(flying) < self.concurrency:
                job = queued.popleft()
                channel = self._channel(job)
                if isinstance(channel, ChannelUnavailable):
                    self._record(job, SendResult(SendStatus.failed, str(channel)), pending, dead)
                    continue
                future = pool.submit(
                    deliver,
                    self._for_sending(job),
                    channel=channel,
                    renderer=self.renderer,
                    outbox_dir=self.outbox_dir,
                    timeout=self.timeout,
                )
                flying[future] = job
            if flying:
                done, _ = wait(flying, return_when=FIRST_COMPLETED)
                for future in done:
                    self._record(flying.pop(future), _result(future), pending, dead)
            settle(engine=self.engine, worker_id=self.worker_id, settlements=pending)
            pending = []
        self._alert(dead)

    def _record(
        self,
        job: Job,
        result: SendResult,
        pending: list[Settlement],
        dead: list[tuple[Job, str | None]],
    ) -> None:
        report = self.report
        if result.status is SendStatus.sent:
            report.sent += 1
            report.local_files += result.local
            pending.append(
                Settlement(
                    job.id, job.attempts, NotificationStatus.sent.value, None, None, self.clock()
                )
            )
            return
        if len(report.errors) < 10 and result.error:
            report.errors.append(
                f"{job.id[:8]} {job.event} to {job.recipient_key} over {job.channel}: "
                f"{result.error}"
            )
        if job.attempts >= self.max_attempts:
            report.dead += 1
            pending.append(
                Settlement(job.id, job.attempts, NotificationStatus.dead.value, result.error)
            )
            dead.append((job, result.error))
            return
        status = (
            NotificationStatus.uncertain
            if result.status is SendStatus.uncertain
            else NotificationStatus.pending
        )
        if status is NotificationStatus.uncertain:
            report.uncertain += 1
        else:
            report.retrying += 1
        pending.append(
            Settlement(
                job.id,
                job.attempts,
                status.value,
                result.error,
                self.clock() + self.backoff.delay(job.attempts),
            )
        )

    def _for_sending(self, job: Job) -> Job:
        """`job` with the context only this send sees: its links (never stored) and whom
        to ask. The settled row is found by id and attempts, not by this copy."""
        try:
            plan = self._plan(job.program_id)
        except ValidationError:
            plan = None  # no plan to check people against: no signed links
        return replace(job, context={**job.context, **dispatch_context(job, plan, self.link_maker)})

    # ------------------------------------------------------------------ alerts

    def _alert(self, dead: Iterable[tuple[Job, str | None]]) -> None:
        by_program: dict[int, list[alerts.DeadMessage]] = defaultdict(list)
        for job, error in dead:
            if job.event == alerts.EVENT:
                continue  # an alert about alerts would have nowhere better to go
            by_program[job.program_id].append(
                alerts.DeadMessage(
                    id=job.id,
                    event=job.event,
                    recipient=job.recipient_key,
                    channel=job.channel,
                    attempts=job.attempts,
                    last_error=error,
                    created_at=job.created_at,
                )
            )
        for program_id, messages in by_program.items():
            try:
                plan = self._plan(program_id)
            except ValidationError:
                plan = None  # the messages themselves say why; nobody to alert by plan
            if plan is None:
                continue
            now = self.clock()
            alert = alerts.delivery_failure(plan, dead=messages, now=now)
            with Session(self.engine) as session, session.begin():
                self.report.alerts += enqueue(
                    session=session,
                    plan=plan,
                    program_id=program_id,
                    department_ids={},
                    messages=[alert],
                    now=now,
                )

    # ------------------------------------------------------------------ lookups

    def _plan(self, program_id: int) -> Plan | None:
        if program_id not in self._plans:
            with Session(self.engine) as session:
                program = session.get(Program, program_id)
                if program is None:
                    return None
                self._plans[program_id] = load_program_plan(session=session, program=program)
        return self._plans[program_id]

    def _channel(self, job: Job) -> ResolvedChannel | ChannelUnavailable | None:
        """The channel to send on; None means the local folder."""
        if job.channel == LOCAL:
            return None
        key = (job.program_id, job.channel)
        if key not in self._channels:
            try:
                plan = self._plan(job.program_id)
            except ValidationError as exc:
                # Not "not configured": that would divert real messages to the local folder.
                self._channels[key] = ChannelUnavailable(
                    f"the plan stored for this program cannot be read ({exc.error_count()} "
                    "problems); apply the plan again with `pilotscale apply`"
                )
                return self._channels[key]
            spec = next((c for c in plan.channels if c.name == job.channel), None) if plan else None
            self._channels[key] = self._usable(job.channel, spec)
        return self._channels[key]

    def _usable(
        self, name: str, spec: Channel | None
    ) -> ResolvedChannel | ChannelUnavailable | None:
        """Fail closed: a channel that is gone or not set is a failed send (retried, then
        dead with an alert), never a local file marked sent, unless local delivery is on."""
        if spec is None:
            if self.local_delivery:
                return None
            return ChannelUnavailable(f"channel '{name}' is no longer in the plan")
        try:
            resolved = resolve(spec, secret_loader=self.secret_loader)
        except ChannelUnavailable as exc:
            return exc
        if not resolved.configured and not self.local_delivery:
            return ChannelUnavailable(f"channel '{name}' is {resolved.masked}")
        return resolved


def _result(future: Future[SendResult]) -> SendResult:
    try:
        return future.result()
    except Exception as exc:  # deliver() catches what it expects; this is a bug, not a leak
        return SendResult(SendStatus.failed, scrub(f"{type(exc).__name__}: {exc}"))
