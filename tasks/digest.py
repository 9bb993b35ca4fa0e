"""The weekly digest's task: pilotscale.engine.digest_queue queues it, in one transaction."""

from __future__ import annotations

from datetime import datetime

from pilotscale.db import get_engine
from pilotscale.engine.digest_queue import DigestResult, queue_weekly_digest
from pilotscale.tasks.policy import store_task


@store_task("queue-weekly-digest")
def queue_digest(*, as_of: datetime, program: str | None) -> DigestResult:
    return queue_weekly_digest(engine=get_engine(), now=as_of, program=program)
