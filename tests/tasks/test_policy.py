"""Store tasks retry what a retry can fix, and nothing else."""

from __future__ import annotations

import pytest
from prefect.states import Completed, Failed
from sqlalchemy.exc import IntegrityError, OperationalError

from pilotscale.db import StoreUnavailable
from pilotscale.engine.start import StartRefused
from pilotscale.tasks.policy import retry_if_transient


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("UPDATE department", {}, Exception("database is locked")),
        StoreUnavailable("cannot connect to the store at postgresql://db/x: connection refused"),
    ],
    ids=["locked-or-dropped", "unreachable-at-start"],
)
def test_a_store_outage_is_retried(error: Exception) -> None:
    assert retry_if_transient(None, None, Failed(data=error))


@pytest.mark.parametrize(
    "error",
    [
        StartRefused("d001", ["the program is paused"]),
        IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        ValueError("a bug"),
    ],
    ids=["refused", "integrity", "bug"],
)
def test_refusals_and_bugs_are_not_retried(error: Exception) -> None:
    assert not retry_if_transient(None, None, Failed(data=error))


def test_a_completed_state_is_not_retried() -> None:
    assert not retry_if_transient(None, None, Completed(data=1))
