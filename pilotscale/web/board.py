"""The program board's data: the phase board, waves and what each waits for, the held
departments with their holding gates, owners and forecast.

Verdicts come from `engine.verdicts.read_verdicts`, the reader of `status`, `explain`
and the report, over the owners-only plan `status` reads (a 100,000-person plan need
not be parsed for a board that names gate owners only); forecasts from the report's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from pilotscale.core.vocabulary import department_state
from pilotscale.core.waves import plan_starts, resolve_wave_rules
from pilotscale.engine.verdicts import DepartmentVerdict, GateVerdict, read_verdicts
from pilotscale.metrics.forecast import DepartmentForecast
from pilotscale.report.data import held_forecasts
from pilotscale.store.snapshot import ProgramView, state_of


@dataclass(frozen=True)
class BoardRow:
    name: str
    title: str
    wave: int
    phase: str
    phase_index: int | None
    status: str
    since: date
    started: bool
    overall: str  # 'pass', 'fail', 'pending', or '' when not evaluated
    holding: tuple[GateVerdict, ...]
    held: bool  # started, before the last phase, some gate not passing
    forecast: DepartmentForecast | None
    state: str = ""  # its word (core.vocabulary), as the report and `status` say it


@dataclass(frozen=True)
class Wave:
    wave: int
    departments: int
    started: int
    waits_for: tuple[str, ...]  # why its next department cannot start ('' when it may)


@dataclass(frozen=True)
class Board:
    program: str
    title: str
    timezone: str
    as_of: datetime
    phases: list[tuple[str, str]]
    rows: list[BoardRow]
    waves: list[Wave]
    max_active: int
    in_flight: int

    @property
    def held(self) -> list[BoardRow]:
        return [r for r in self.rows if r.held]


def build_board(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    verdicts: Mapping[str, DepartmentVerdict] | None = None,
    forecasts: Mapping[str, DepartmentForecast] | None = None,
) -> Board:
    """The board as of `now`; `verdicts` and `forecasts` when the caller read them already
    (`board_cache` keeps forecasts longer than verdicts: trends move by the day)."""
    plan, machine = view.plan, view.machine
    zone = ZoneInfo(plan.program.timezone)
    if verdicts is None:
        verdicts = read_verdicts(session=session, view=view, now=now)
    if forecasts is None:
        forecasts = held_forecasts(session=session, view=view, verdicts=verdicts, now=now)
    held = held_names(view, verdicts)
    rows = []
    for d in view.departments:
        verdict = verdicts.get(d.name)
        rows.append(
            BoardRow(
                name=d.name,
                title=d.title,
                wave=d.wave,
                phase=d.phase,
                phase_index=machine.index(d.phase),
                status=d.status,
                since=d.phase_entered_at.astimezone(zone).date(),
                started=machine.is_started(state_of(d)),
                overall=str(verdict.outcome) if verdict else "",
                holding=verdict.holding if verdict else (),
                held=d.name in held,
                forecast=forecasts.get(d.name),
                state=str(
                    department_state(
                        status=d.status,
                        started=machine.is_started(state_of(d)),
                        final=d.phase == machine.final,
                        outcome=str(verdict.outcome) if verdict else None,
                    )
                ),
            )
        )
    return Board(
        program=plan.program.name,
        title=plan.program.title,
        timezone=plan.program.timezone,
        as_of=now,
        phases=[(p.name, p.title or p.name) for p in plan.phases],
        rows=rows,
        waves=_waves(view, now),
        max_active=plan.rollout.max_active,
        in_flight=sum(machine.is_in_flight(state_of(d)) for d in view.departments),
    )


def held_names(view: ProgramView, verdicts: Mapping[str, DepartmentVerdict]) -> frozenset[str]:
    """The departments the report calls held: started, before the last phase, some gate
    not passing (`report.data.held_forecasts` forecasts exactly these)."""
    final = view.machine.final
    return frozenset(name for name, v in verdicts.items() if v.phase != final and not v.passes)


def _waves(view: ProgramView, now: datetime) -> list[Wave]:
    plan, machine = view.plan, view.machine
    states = {d.name: (d.wave, state_of(d)) for d in view.departments}
    decisions = plan_starts(
        states_by_department=states,
        wave_rules=resolve_wave_rules(plan.rollout, [d.wave for d in view.departments]),
        phases=machine.phases,
        max_active=plan.rollout.max_active,
        blackouts_by_department={
            d.name: [(b.start, b.end, b.reason) for b in d.blackout] for d in plan.departments
        },
        program_paused=view.program.paused,
        today=view.today(now),
    )
    first_waiting: dict[int, tuple[str, ...]] = {}
    for name, decision in decisions:
        wave = states[name][0]
        if wave not in first_waiting:
            first_waiting[wave] = tuple(decision.reasons) or ("may start now",)
    out = []
    for wave in sorted({d.wave for d in view.departments}):
        members = [d for d in view.departments if d.wave == wave]
        started = sum(machine.is_started(state_of(d)) for d in members)
        out.append(Wave(wave, len(members), started, first_waiting.get(wave, ())))
    return out
