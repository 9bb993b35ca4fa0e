"""The report's and the digest's first lines: where the rollout stands, in one minute.

A pure function of the report's facts (`ReportData`: the same verdicts, forecasts and
budget the sections below it show) to two sentences and four tiles. Every state is named
with `pilotscale.core.vocabulary`, so the tiles, the sentences and the phase board say
the same word for the same department. No clock: every date is the as-of's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from pilotscale.core.states import Outcome
from pilotscale.core.vocabulary import State, department_state
from pilotscale.metrics.budget import money
from pilotscale.report.data import DepartmentRow, ReportData


@dataclass(frozen=True)
class Tile:
    label: str  # a vocabulary word: 'operating', 'in flight', 'held', 'blocked'
    value: int
    note: str  # what it counts, or how it splits


@dataclass(frozen=True)
class Headline:
    sentences: tuple[str, ...]
    tiles: tuple[Tile, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class _Obstacle:
    title: str
    owner: str
    departments: tuple[str, ...]  # titles, board order
    blocked: int  # how many of them are blocked
    stuck: bool
    failing: bool


def state_of(row: DepartmentRow, phase_count: int) -> State:
    """A report row's vocabulary word."""
    return department_state(
        status=row.status,
        started=row.started,
        final=row.phase_index is not None and row.phase_index == phase_count - 1,
        outcome=row.overall,
    )


def states(data: ReportData) -> dict[str, State]:
    """Each department's word, by name."""
    return {d.name: state_of(d, len(data.phases)) for d in data.departments}


def headline(data: ReportData) -> Headline:
    words = states(data)
    count = {s: sum(1 for w in words.values() if w is s) for s in State}
    operating = count[State.operating_healthy] + count[State.operating_watched]
    tiles = (
        Tile(
            "operating",
            operating,
            f"{count[State.operating_healthy]} healthy, {count[State.operating_watched]} watched",
        ),
        Tile(str(State.in_flight), count[State.in_flight], "every gate passes"),
        Tile(str(State.held), count[State.held], "a gate fails or is pending"),
        Tile(str(State.blocked), count[State.blocked], "needs an operator to resume"),
    )
    return Headline((_where(data, words, operating), _outlook(data, words)), tiles)


def _where(data: ReportData, words: dict[str, State], operating: int) -> str:
    total = len(data.departments)
    if total == 0:
        return "No department is in the plan yet."
    count = {s: sum(1 for w in words.values() if w is s) for s in State}
    parts = [f"{operating} of {total} departments operating"]
    # The tiles show every count; the sentence names only the states someone is in.
    parts += [
        f"{count[s]} {s}"
        for s in (State.in_flight, State.held, State.blocked, State.paused)
        if count[s]
    ]
    rest = [
        f"{count[s]} {s}" for s in (State.rolled_back, State.aborted, State.not_started) if count[s]
    ]
    sentence = _join(parts) + (f" ({', '.join(rest)})" if rest else "")
    obstacle = _most_in_the_way(data, words)
    if obstacle is None:
        return sentence + "; nothing is in the way."
    where = _join(list(obstacle.departments))
    how = "failing" if obstacle.failing else ("stuck" if obstacle.stuck else "pending")
    return (
        f"{sentence}; most in the way: {obstacle.title} ({how}, owner {obstacle.owner}), "
        f"holding {where}."
    )


def _outlook(data: ReportData, words: dict[str, State]) -> str:
    b = data.budget
    if b.ratio is None:
        budget = (
            f"Full scale projects {money(b.annual_total, b.currency)} a year, "
            "with no scale budget approved"
        )
    else:
        gap = abs(b.annual_total - b.approved)
        side = "over" if b.over_budget else "under"
        budget = (
            f"Full scale projects {money(b.annual_total, b.currency)} a year, "
            f"{money(gap, b.currency)} {side} the approved {money(b.approved, b.currency)} "
            f"({b.ratio:.0%})"
        )
    return f"{budget}; {_next(data, words)}."


def _next(data: ReportData, words: dict[str, State]) -> str:
    ready = [d for d in data.departments if words[d.name] is State.in_flight]
    if ready:
        return f"next to advance: {ready[0].title}, at the next readiness check"
    zone = ZoneInfo(data.timezone)
    dated = [
        (d.forecast.when, i, d)
        for i, d in enumerate(data.departments)
        if words[d.name] is State.held and d.forecast is not None and d.forecast.when is not None
    ]
    if dated:
        when, _, d = min(dated, key=lambda t: (t[0], t[1]))
        return f"next expected to advance: {d.title}, around {_day(when, zone)}"
    if any(w is State.held for w in words.values()):
        return "no held department has a date to advance at the current trend"
    return "no department is waiting to advance"


def _most_in_the_way(data: ReportData, words: dict[str, State]) -> _Obstacle | None:
    """The gate that stops the most: blocked departments first, then how many departments
    it holds, then failing (what blocks a department), then stuck; board order breaks
    ties."""
    found: dict[tuple[str, str], list[tuple[DepartmentRow, bool, bool]]] = {}
    for d in data.departments:
        if words[d.name] not in (State.held, State.blocked, State.operating_watched):
            continue
        for g in d.gates:
            if g.outcome == str(Outcome.passed):
                continue
            found.setdefault((g.title, g.owner), []).append(
                (d, g.stuck_checks > 0, g.outcome == str(Outcome.failed))
            )
    if not found:
        return None
    obstacles = [
        _Obstacle(
            title=title,
            owner=owner,
            departments=tuple(d.title for d, _, _ in rows),
            blocked=sum(1 for d, _, _ in rows if words[d.name] is State.blocked),
            stuck=any(s for _, s, _ in rows),
            failing=any(f for _, _, f in rows),
        )
        for (title, owner), rows in found.items()
    ]
    return min(
        enumerate(obstacles),
        key=lambda t: (
            -t[1].blocked,
            -len(t[1].departments),
            not t[1].failing,
            not t[1].stuck,
            t[0],
        ),
    )[1]


def _join(parts: Sequence[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _day(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d")
