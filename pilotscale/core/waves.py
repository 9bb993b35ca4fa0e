"""May a department start its mini-pilot now? Waves, capacity, blackouts, program pause.

Pure: the caller passes every department's wave and state, and today's date.
Refusals come in two kinds. Hard ones (the program is paused, a blackout, the
department already started) hold even with `force`. Soft ones are judgment
calls a program lead may take responsibility for with `force` (the previous
wave is not far enough yet, support capacity is full); they are then listed in
`overridden` so the transition record says what was set aside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TypeAlias

from pilotscale.core.phases import DeptState, Event, PhaseMachine, TransitionError
from pilotscale.core.states import Status
from pilotscale.plan.schema import Rollout

Blackout: TypeAlias = tuple[date, date, str]  # first day, last day (inclusive), reason
WaveRequirement: TypeAlias = tuple[int, str]  # (after_wave, phase it must have reached)


@dataclass(frozen=True)
class StartDecision:
    """`reasons` are what still stands in the way (empty exactly when allowed);
    `overridden` is what `force` set aside."""

    allowed: bool
    reasons: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)


def resolve_wave_rule(wave: int, rollout: Rollout, waves: Iterable[int]) -> WaveRequirement | None:
    """What `wave` waits for: its explicit wave rule, else `default_reaches` of the wave
    before it. "Before" is the nearest lower wave that has departments, so wave numbers
    need not be contiguous. None when nothing comes before it or no rule applies."""
    for rule in rollout.waves:
        if rule.wave == wave:
            return rule.after_wave, rule.reaches
    earlier = [w for w in waves if w < wave]
    if rollout.default_reaches is not None and earlier:
        return max(earlier), rollout.default_reaches
    return None


def resolve_wave_rules(rollout: Rollout, waves: Iterable[int]) -> dict[int, WaveRequirement | None]:
    present = sorted(set(waves))
    return {w: resolve_wave_rule(w, rollout, present) for w in present}


def can_start(
    *,
    department: str,
    wave: int,
    wave_rule: WaveRequirement | None,
    states_by_department: Mapping[str, tuple[int, DeptState]],
    phases: Sequence[str],
    max_active: int,
    blackouts: Sequence[Blackout],
    program_paused: bool,
    today: date,
    force: bool,
) -> StartDecision:
    machine = PhaseMachine(phases)
    hard: list[str] = []
    soft: list[str] = []

    if program_paused:
        hard.append(
            "the program is paused; resume the program first (force does not override this)"
        )
    for first_day, last_day, why in blackouts:
        if first_day <= today <= last_day:
            because = f" ({why})" if why else ""
            hard.append(
                f"'{department}' is in a blackout from {first_day} to {last_day}{because}; "
                f"start it after {last_day}"
            )
    _, own = states_by_department.get(department, (wave, DeptState(machine.first, Status.active)))
    try:
        machine.apply(own, Event.start, department=department)
    except TransitionError as refused:
        hard.append(str(refused))

    others = {name: ws for name, ws in states_by_department.items() if name != department}
    if wave_rule is not None:
        soft.extend(_wave_refusal(machine, wave, wave_rule, others))

    in_flight = sorted(name for name, (_, st) in others.items() if machine.is_in_flight(st))
    if len(in_flight) >= max_active:
        soft.append(
            f"{len(in_flight)} department(s) already in flight, the most rollout.max_active "
            f"allows ({max_active}): {', '.join(in_flight)}; wait until one reaches "
            f"'{machine.final}', or raise rollout.max_active"
        )

    reasons, overridden = (hard, soft) if force else (hard + soft, [])
    return StartDecision(allowed=not reasons, reasons=reasons, overridden=overridden)


def plan_starts(
    *,
    states_by_department: Mapping[str, tuple[int, DeptState]],
    wave_rules: Mapping[int, WaveRequirement | None],
    phases: Sequence[str],
    max_active: int,
    blackouts_by_department: Mapping[str, Sequence[Blackout]],
    program_paused: bool,
    today: date,
) -> list[tuple[str, StartDecision]]:
    """A decision for every department not started yet, by wave then name.

    Decisions are taken in that order as if each allowed start had happened: an
    allowed start takes a `max_active` slot from the ones after it, and counts as
    being in the second phase for wave rules — the same answer repeated runs
    would reach one start at a time. Never forces anything.
    """
    machine = PhaseMachine(phases)
    states = dict(states_by_department)
    waiting = sorted(
        (wave, name) for name, (wave, st) in states.items() if not machine.is_started(st)
    )
    decisions = []
    for wave, name in waiting:
        decision = can_start(
            department=name,
            wave=wave,
            wave_rule=wave_rules.get(wave),
            states_by_department=states,
            phases=phases,
            max_active=max_active,
            blackouts=blackouts_by_department.get(name, ()),
            program_paused=program_paused,
            today=today,
            force=False,
        )
        decisions.append((name, decision))
        if decision.allowed:
            states[name] = (wave, machine.apply(states[name][1], Event.start, department=name))
    return decisions


def next_eligible(
    *,
    states_by_department: Mapping[str, tuple[int, DeptState]],
    wave_rules: Mapping[int, WaveRequirement | None],
    phases: Sequence[str],
    max_active: int,
    blackouts_by_department: Mapping[str, Sequence[Blackout]],
    program_paused: bool,
    today: date,
) -> list[str]:
    """The departments that may start now, by wave then name (see `plan_starts`)."""
    decisions = plan_starts(
        states_by_department=states_by_department,
        wave_rules=wave_rules,
        phases=phases,
        max_active=max_active,
        blackouts_by_department=blackouts_by_department,
        program_paused=program_paused,
        today=today,
    )
    return [name for name, decision in decisions if decision.allowed]


def _wave_refusal(
    machine: PhaseMachine,
    wave: int,
    rule: WaveRequirement,
    others: Mapping[str, tuple[int, DeptState]],
) -> list[str]:
    after_wave, reaches = rule
    if machine.index(reaches) is None:
        return [
            f"wave {wave} waits for wave {after_wave} to reach '{reaches}', which is not a "
            f"phase of the plan (phases: {', '.join(machine.phases)}); fix rollout.waves"
        ]
    behind = sorted(
        f"{name} ({st})"
        for name, (w, st) in others.items()
        if w == after_wave and not machine.has_reached(st, reaches)
    )
    if not behind:
        return []
    return [
        f"wave {wave} starts when every wave-{after_wave} department has reached "
        f"'{reaches}'; not there yet: {', '.join(behind)}"
    ]
