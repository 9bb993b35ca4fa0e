"""Where `start`, `check` and `rollout` run their flow, and how a remote run is reported."""

from __future__ import annotations

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_UI_URL, temporary_settings

from pilotscale.cli.errors import CliError
from pilotscale.cli.launch import _sendable, launch, run_here
from pilotscale.deployments.trigger import _reason, run_url
from pilotscale.engine.start import StartRefused
from pilotscale.store.queries import NotFound


async def _answer() -> dict[str, str]:
    return {"ran": "here"}


async def _refused() -> None:
    raise StartRefused("hr", ["wave 2 starts when wave 1 reached scaling"])


async def _unknown() -> None:
    raise NotFound("department", "hrr", ["hr", "sales"])


def test_without_a_prefect_server_the_flow_runs_here() -> None:
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        launched = launch(flow_name="readiness-check", program=None, parameters={}, here=_answer)

    assert launched.ran_here
    assert launched.result == {"ran": "here"}


def test_an_unreachable_server_is_one_line_not_a_local_run() -> None:
    with (
        temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        pytest.raises(CliError, match=r"cannot reach the Prefect API at http://127.0.0.1:9/api"),
    ):
        launch(flow_name="readiness-check", program=None, parameters={}, here=_answer)


def test_refusals_of_a_local_run_are_one_line() -> None:
    with pytest.raises(CliError, match="cannot start 'hr': wave 2 starts when"):
        run_here(_refused)
    with pytest.raises(CliError, match="did you mean 'hr'"):
        run_here(_unknown)


def test_a_failed_remote_run_says_why_without_prefects_framing() -> None:
    message = "Flow run encountered an exception: StartRefused: cannot start 'hr': blackout"

    assert _reason(message) == "cannot start 'hr': blackout"
    assert _reason("Deployment concurrency limit reached.") == (
        "Deployment concurrency limit reached."
    )
    assert _reason(None) == ""


def test_the_link_points_at_the_runs_page_of_the_ui() -> None:
    with temporary_settings(
        {PREFECT_API_URL: "http://prefect.internal:4200/api"}, restore_defaults={PREFECT_UI_URL}
    ):
        link = run_url("0b1d5e0c-0000-4000-8000-000000000000")  # type: ignore[arg-type]

    assert link == "http://prefect.internal:4200/runs/flow-run/0b1d5e0c-0000-4000-8000-000000000000"


def test_unset_options_are_left_to_the_deployments_defaults() -> None:
    sent = _sendable({"program": None, "as_of": None, "department": "hr", "force": False})

    assert sent == {"department": "hr", "force": False}
