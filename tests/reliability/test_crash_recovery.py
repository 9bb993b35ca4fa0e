"""SIGKILL a readiness check and its dispatcher run at many points; the next run repairs
everything, nothing is lost, nothing happens twice (see crash_harness for the method)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.reliability.crash_harness import ChildRun, KillPoint, campaign, earlier, kill_points

pytestmark = pytest.mark.slow

DEPARTMENTS = 12
KILL_POINTS = 24
SEED = 20261111


def test_killed_anywhere_the_next_run_repairs_and_loses_nothing(
    store_url: str, tmp_path: Path, figure: Callable[[str], None]
) -> None:
    def spread(calibration: ChildRun) -> list[KillPoint]:
        return kill_points(
            seed=SEED,
            commits=calibration.commits,
            seconds=calibration.seconds,
            count=KILL_POINTS,
        )

    figures = campaign(
        store_url=store_url, workdir=tmp_path, departments=DEPARTMENTS, choose=spread
    )

    figure(
        f"{figures.killed} SIGKILLs survived ({figures.planned} runs: the kill points, and "
        "once more earlier each one a run outlived; "
        f"{figures.finished_first} finished first), {figures.messages} messages, "
        f"{figures.deliveries} deliveries, {figures.resent_in_flight} re-sent while in flight "
        f"(same id; at most {figures.most_repeats_per_kill} per kill), {figures.lost} lost"
    )
    assert figures.problems == []
    assert figures.lost == 0
    assert figures.killed >= 20


@pytest.mark.parametrize(
    ("mutant", "points"),
    [
        # Marking messages sent when they are claimed: a kill mid-send loses them. The
        # sends are the run's second half; moments within it, from the calibration run,
        # so that a loaded machine (a slower check) does not move them all before it.
        (
            "sent-before-send",
            lambda c: [KillPoint("time", seconds=c.seconds * f) for f in (0.55, 0.7, 0.85)],
        ),
        # Queuing a department's messages after its transition committed: a kill in
        # between loses them, and the re-run does not advance it again to re-queue them.
        (
            "messages-after-commit",
            lambda _c: [KillPoint("commit", commit=c, when="after") for c in (1, 2)],
        ),
    ],
)
def test_the_harness_notices_a_dispatcher_or_a_check_that_can_lose_messages(
    tmp_path: Path,
    mutant: str,
    points: Callable[[ChildRun], list[KillPoint]],
    figure: Callable[[str], None],
) -> None:
    figures = campaign(
        store_url=f"sqlite:///{tmp_path / 'store' / 'pilotscale.db'}",
        workdir=tmp_path,
        departments=DEPARTMENTS,
        choose=points,
        mutant=mutant,
    )

    figure(f"mutant {mutant}: {len(figures.problems)} problems found, {figures.lost} lost")
    # On a quiet machine a run may finish before its latest kill point; one kill that
    # lands is enough for the mutant to lose messages.
    assert figures.killed >= 1
    assert figures.problems, f"the {mutant} mutant survived {figures.killed} kills unnoticed"


@pytest.mark.parametrize(
    ("point", "tried_again"),
    [
        (KillPoint("commit", commit=9, when="after"), KillPoint("commit", commit=4, when="after")),
        (
            KillPoint("commit", commit=1, when="before"),
            KillPoint("commit", commit=1, when="before"),
        ),
        (KillPoint("time", seconds=1.5), KillPoint("time", seconds=0.75)),
    ],
)
def test_a_point_a_run_outlived_is_tried_again_earlier(
    point: KillPoint, tried_again: KillPoint
) -> None:
    assert earlier(point) == tried_again


def test_a_point_a_run_outlives_is_checked_then_tried_once_more(tmp_path: Path) -> None:
    """A point far past the run's last commit: the run finishes first and is checked as any
    run, and the point is tried once more (earlier, still past the end: the number of
    commits varies from run to run, so no test can count on the second landing), then no
    more."""
    figures = campaign(
        store_url=f"sqlite:///{tmp_path / 'store' / 'pilotscale.db'}",
        workdir=tmp_path,
        departments=DEPARTMENTS,
        choose=lambda c: [KillPoint("commit", commit=10 * c.commits + 10, when="before")],
    )

    assert (figures.planned, figures.finished_first, figures.killed) == (2, 2, 0)
    assert figures.problems == []
    assert figures.lost == 0
