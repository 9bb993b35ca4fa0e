"""`status`, `explain` and `history`: what the store says, for people and for machines."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich.cells import cell_len
from rich.table import Table
from rich.text import Span, Text

from pilotscale.cli.app import app
from pilotscale.cli.errors import CliError
from pilotscale.cli.options import AsOf, ProgramOpt, department_of, parse_as_of, program_view
from pilotscale.cli.text import json_text, plain, terminal, text
from pilotscale.core.actors import Source
from pilotscale.core.phases import PhaseMachine
from pilotscale.core.states import Outcome, Status
from pilotscale.core.vocabulary import STATE_MEANINGS, State, department_state

# The store, the verdicts and the plan's schema (SQLAlchemy, pydantic) are imported by the
# functions that use them when a command runs: `pilotscale --help` never loads them.
if TYPE_CHECKING:
    from pilotscale.engine.verdicts import DepartmentVerdict, GateVerdict
    from pilotscale.models import Department
    from pilotscale.store.snapshot import ProgramView

console = terminal(piped_width=160)

# Up to this many departments `status` prints a row each; above, a summary and the
# departments that need someone (a Rich table of 2,000 departments took 4.7 s to draw and
# some 9,000 lines to scroll through). `--all` asks for every row.
FULL_TABLE_UP_TO = 50

# Plan and store text goes into tables and lines as Text (see pilotscale/cli/text.py).
_MARK = {
    Outcome.passed: Text("✓", "green"),
    Outcome.failed: Text("✗", "red"),
    Outcome.pending: Text("…", "yellow"),
}


@app.command()
def version() -> None:
    """Print the pilotscale version."""
    from importlib.metadata import version as _v

    print(_v("pilotscale"))


@app.command()
def status(
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
    show_all: bool = typer.Option(
        False,
        "--all",
        help=(
            f"A row for every department, however many (above {FULL_TABLE_UP_TO} "
            "departments the default is a summary per phase and status, then every "
            "department that is held, paused, blocked, rolled back or aborted, in full)."
        ),
    ),
    watch: bool = typer.Option(
        False,
        "--watch",
        help="Keep it on screen: redraw when the store changes and each minute; Ctrl-C stops.",
    ),
    every: float = typer.Option(
        2.0, "--every", min=0.5, help="With --watch: seconds between looks at the store."
    ),
) -> None:
    """Every department: wave, phase, status and its gates, evaluated now (read-only).

    Up to 50 departments, a row each; above, a count per phase and status, then a line for
    every department that needs someone (`--all`: a row each; `--json`: always all).

    Example:

      pilotscale status

      pilotscale status --watch               # a live view in a terminal

      pilotscale status --json | jq '.departments[] | select(.holding != [])'
    """
    if watch:
        if as_of is not None:
            raise CliError("--watch shows the present: leave out --as-of")
        _watch(lambda now: _show_status(program, now, as_json, show_all), every)
        return
    _show_status(program, parse_as_of(as_of, program=program), as_json, show_all)


def _watch(show: Callable[[datetime], None], every: float) -> None:
    """Redraw when the store's change marker moves (one cheap query per look) or the
    minute turns (soak times and metric windows move with the clock)."""
    from sqlmodel import Session

    from pilotscale.cli.store import store_engine
    from pilotscale.store.change_marker import change_marker

    engine = store_engine()
    shown: tuple[Any, ...] | None = None
    try:
        while True:
            with Session(engine) as session:
                marker = change_marker(session=session)
            now = datetime.now(UTC)
            look = (marker, now.replace(second=0, microsecond=0))
            if look != shown:
                if console.is_terminal:
                    console.clear()
                else:
                    print(f"--- {now:%Y-%m-%d %H:%M:%S} UTC", flush=True)
                show(now)
                sys.stdout.flush()
                shown = look
            time.sleep(every)
    except KeyboardInterrupt:
        return  # Ctrl-C is how a watch ends: exit 0, no traceback


def _show_status(program: str | None, now: datetime, as_json: bool, show_all: bool) -> None:
    from pilotscale.engine.verdicts import read_verdicts
    from pilotscale.store.snapshot import state_of

    # Only gate owners are named: a plan of 200,000 people need not be read whole.
    with program_view(program, owners_only=True) as (session, view):
        verdicts = read_verdicts(session=session, view=view, now=now, parallel=True)
        pause = _last_pause(session, view)
    if as_json:
        # A department's gates one per line: thousands of them (`json_text`).
        print(json_text({**_status_json(view, verdicts, now), "pause": pause}, one_line_from=4))
        return
    machine = view.machine
    in_flight = sum(machine.is_in_flight(state_of(d)) for d in view.departments)
    if len(view.departments) > FULL_TABLE_UP_TO and not show_all:
        _print_summary(view, verdicts, now, in_flight, pause)
        return
    paused_note = _paused_note(pause)
    table = Table(
        title=text(f"{view.plan.program.title} — as of {now:%Y-%m-%d %H:%M} UTC{paused_note}"),
        caption=(
            f"{in_flight} of max {view.plan.rollout.max_active} departments in flight · "
            "✓ pass  ✗ fail  … pending · `pilotscale explain DEPARTMENT` for reasons"
        ),
    )
    for column in ("Department", "Wave", "Phase", "State", "Gates", "Holding"):
        table.add_column(column, overflow="fold")
    for d in view.departments:
        verdict = verdicts.get(d.name)
        word = _state(machine, d, verdict)
        table.add_row(
            text(d.name),
            str(d.wave),
            _phase_cell(machine, d),
            _state_cell(word, verdict),
            _gates_cell(verdict),
            Text("\n").join(
                _marked(r.outcome, _stuck_label(r, r.gate))
                for r in (*verdict.holding, *verdict.waived)
            )
            if verdict
            else "",
        )
    console.print(table)


@app.command()
def explain(
    department: str = typer.Argument(..., help="Department name, e.g. hr.", show_default=False),
    program: str | None = ProgramOpt,
    as_of: str | None = AsOf,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
) -> None:
    """Why a department is where it is: each gate's result, value vs threshold, owner, next step.

    Example:

      pilotscale explain hr

      pilotscale explain sales --as-of 2026-12-14
    """
    from pilotscale.engine.verdicts import read_verdicts
    from pilotscale.store.queries import last_regression
    from pilotscale.store.snapshot import state_of

    now = parse_as_of(as_of, program=program)
    with program_view(program) as (session, view):
        department_of(view, department)
        verdicts = read_verdicts(
            session=session, view=view, now=now, names=[department], with_people=True
        )
        d = view.department(department)
        regressed = last_regression(session=session, department_id=d.id or 0, until=now)
    machine = view.machine
    state = state_of(d)
    if as_json:
        print(json_text(_explain_json(view, d, verdicts.get(d.name), now)))
        return
    console.print(
        Text.assemble(
            text(d.title, "bold"),
            text(f" ({d.name}) — wave {d.wave}, phase "),
            text(d.phase, "bold"),
            text(f" (since {d.phase_entered_at:%Y-%m-%d}), version {d.version}"),
        )
    )
    word = _state(machine, d, verdicts.get(d.name))
    console.print(
        Text.assemble(
            text("state: "), text(str(word), _STATE_STYLE[word]), text(f": {STATE_MEANINGS[word]}")
        )
    )
    if regressed is not None:
        # Why it is here: the readiness check moved it, and the results that made it.
        console.print(
            text(
                f"Regressed on {regressed.at:%Y-%m-%d}: left '{regressed.from_phase}' for "
                f"'{regressed.to_phase}' ({regressed.to_status.replace('_', ' ')}); "
                f"{regressed.reason}",
                "magenta",
            )
        )
    if not machine.is_started(state):
        console.print(text(_start_outlook(view, d, now)))
        return
    verdict = verdicts.get(d.name)
    if verdict is None:
        console.print(
            text(f"phase '{d.phase}' is no longer in the plan; roll back to a known phase")
        )
        return
    table = Table(show_lines=True)
    for column in ("Gate", "Result", "Observed", "Threshold", "Owner", "What to do"):
        table.add_column(column, overflow="fold")
    for r in verdict.gates:
        table.add_row(
            text(r.gate),
            _marked(r.outcome, _result_label(r)),
            text(r.observed_text),
            text(r.threshold_text),
            text(r.owner_name),
            text(r.reason),
        )
    console.print(table)
    _print_people(view, verdict)
    console.print(
        text(_next_step(machine, d, verdict, view.plan.program.remind_every, view.program.paused))
    )
    if d.phase == machine.final:
        console.print(text(_guard(view, d)))


@app.command()
def history(
    department: str = typer.Argument(..., help="Department name, e.g. hr.", show_default=False),
    program: str | None = ProgramOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output on stdout."),
    as_of: str | None = AsOf,
) -> None:
    """Every phase change of a department: when, from, to, who, why and which run. Kept forever.

    With --as-of, the history as it stood then: the changes up to that moment.

    Example:

      pilotscale history hr

      pilotscale history hr --as-of 2026-12-14
    """
    from pilotscale.engine.timeline import department_timeline

    # The owners' plan: a history names no one from the plan (at 1,000 departments of 100
    # people the whole plan took 0.6 s of the command's 1 s).
    with program_view(program, owners_only=True) as (session, view):
        department_of(view, department)
        d = view.department(department)
        until = parse_as_of(as_of, zone=view.plan.program.timezone) if as_of is not None else None
        # Waivers and the program's pauses belong to the department's story too.
        timeline = department_timeline(session=session, department=d, until=until)
    if as_json:
        print(json_text([e.fields for e in timeline]))
        return
    table = Table(title=text(f"{d.title} — history"))
    for column in ("When (UTC)", "From", "To", "Event", "Actor", "How", "Reason", "Run"):
        table.add_column(column, overflow="fold")
    for e in timeline:
        actor = text(f"{e.actor} for {e.on_behalf_of}" if e.on_behalf_of else e.actor)
        if e.os_user and e.os_user != e.actor:
            actor.append_text(text(f" ({e.os_user})", "dim"))
        table.add_row(
            f"{e.at.astimezone(UTC):%Y-%m-%d %H:%M}",
            text(_phase_status(e.from_phase, e.from_status)),
            text(_phase_status(e.to_phase, e.to_status)),
            text(e.event),
            actor,
            text(_how(e.identity_source, e.on_behalf_of)),
            text(e.reason),
            text((e.run_id or "")[:8]),
        )
    console.print(table)


# --------------------------------------------------------------------------- helpers

# What each status is called in the summary, and which come first in its list: the
# departments that wait for a person before those that wait for their gates.
_SUMMARY_COLUMNS = tuple(str(s) for s in State)
_URGENCY = {
    str(State.aborted): 0,
    str(State.blocked): 1,
    str(State.rolled_back): 2,
    str(State.paused): 3,
    str(State.held): 4,
    str(State.operating_watched): 5,
}
_STATE_STYLE = {
    State.not_started: "dim",
    State.in_flight: "green",
    State.held: "yellow",
    State.blocked: "red",
    State.paused: "yellow",
    State.rolled_back: "magenta",
    State.aborted: "red",
    State.operating_healthy: "green",
    State.operating_watched: "yellow",
}


def _standing(machine: PhaseMachine, d: Department, verdict: DepartmentVerdict | None) -> str:
    """The department's word (core.vocabulary): a phase no longer in the plan has no
    verdict, so it reads as held."""
    return str(_state(machine, d, verdict))


def _state(machine: PhaseMachine, d: Department, verdict: DepartmentVerdict | None) -> State:
    from pilotscale.store.snapshot import state_of

    return department_state(
        status=d.status,
        started=machine.is_started(state_of(d)),
        final=d.phase == machine.final,
        outcome=str(verdict.outcome) if verdict is not None else None,
    )


def _print_summary(
    view: ProgramView,
    verdicts: dict[str, DepartmentVerdict],
    now: datetime,
    in_flight: int,
    pause: dict[str, str] | None = None,
) -> None:
    """Many departments: a count per phase and standing, then one line for each department
    that needs someone (held, paused, blocked, rolled back, aborted), with its gates."""
    machine = view.machine
    standing = {d.name: _standing(machine, d, verdicts.get(d.name)) for d in view.departments}
    phases = list(machine.phases) + sorted(
        {d.phase for d in view.departments if machine.index(d.phase) is None}
    )
    counts: dict[str, dict[str, int]] = {p: dict.fromkeys(_SUMMARY_COLUMNS, 0) for p in phases}
    for d in view.departments:
        counts[d.phase][standing[d.name]] += 1
    paused_note = _paused_note(pause)
    table = Table(
        title=text(f"{view.plan.program.title} — as of {now:%Y-%m-%d %H:%M} UTC{paused_note}"),
        caption=(
            f"{len(view.departments)} departments, {in_flight} of max "
            f"{view.plan.rollout.max_active} in flight · `pilotscale status --all` for a row "
            "per department"
        ),
    )
    table.add_column("Phase", overflow="fold")
    table.add_column("Departments", justify="right")
    for column in _SUMMARY_COLUMNS:
        table.add_column(column.capitalize(), justify="right")
    for phase in phases:
        row = counts[phase]
        if not any(row.values()) and machine.index(phase) is None:
            continue
        cell = _phase_label(machine, phase)
        table.add_row(cell, str(sum(row.values())), *(_count(row[c]) for c in _SUMMARY_COLUMNS))
    totals = [sum(counts[p][c] for p in phases) for c in _SUMMARY_COLUMNS]
    table.add_row(Text("all", "bold"), str(len(view.departments)), *(_count(n) for n in totals))
    console.print(table)
    needing = sorted(
        (d for d in view.departments if standing[d.name] in _URGENCY),
        key=lambda d: _URGENCY[standing[d.name]],
    )
    if not needing:
        console.print(Text("Every started department passes its gates."))
        return
    console.print(
        Text(
            f"{len(needing)} departments need someone (held: a gate does not pass; "
            "✓ pass  ✗ fail  … pending) · `pilotscale explain DEPARTMENT` for reasons:"
        )
    )
    # Aligned lines, not a table: drawing a Rich table of 1,800 rows took seconds. Each
    # line is (text, style) pieces, made one Text at the end: Text objects per cell and
    # per gate cost as much as the printing.
    names = [plain(d.name) for d in needing]
    widths = (
        max(cell_len(n) for n in names),
        max(len(str(d.wave)) for d in needing),
        max(cell_len(_phase_text(machine, d.phase)) for d in needing),
        max(len(standing[d.name]) for d in needing),
    )
    pieces: list[tuple[str, str]] = []
    for d, name in zip(needing, names, strict=True):
        verdict = verdicts.get(d.name)
        shown = standing[d.name]
        phase = _phase_text(machine, d.phase)
        pieces += [
            ("  " + name + " " * (widths[0] - cell_len(name) + 2), ""),
            (str(d.wave).ljust(widths[1] + 2), ""),
            (phase + " " * (widths[2] - cell_len(phase) + 2), ""),
            (shown.ljust(widths[3] + 2), _STATE_STYLE[State(shown)]),
        ]
        if verdict is None:
            pieces.append(("phase not in the plan", "red"))
        else:
            tally = {o: sum(r.outcome is o for r in verdict.gates) for o in Outcome}
            for outcome, n in tally.items():
                if n:
                    pieces += [(_MARK[outcome].plain, str(_MARK[outcome].style)), (f"{n} ", "")]
            pieces.append(
                (" " * max(0, 12 - sum(len(str(n)) + 2 for n in tally.values() if n)), "")
            )
            for i, r in enumerate(verdict.holding):
                mark = _MARK[r.outcome]
                pieces += [
                    (", " if i else "", ""),
                    (mark.plain, str(mark.style)),
                    (" " + plain(r.gate) + (" (stuck)" if r.stuck else ""), ""),
                ]
        pieces.append(("\n", ""))
    _print_pieces(pieces)


def _phase_text(machine: PhaseMachine, phase: str) -> str:
    index = machine.index(phase)
    shown = plain(phase)
    return (
        f"{shown} (not in plan)" if index is None else f"{shown} {index + 1}/{len(machine.phases)}"
    )


def _print_pieces(pieces: list[tuple[str, str]]) -> None:
    """(text, style) pieces as one Text, or as plain text where the console shows no style
    (piped, NO_COLOR): what Rich would print there, without laying out every line."""
    whole = "".join(part for part, _ in pieces)
    if console.color_system is None:
        console.file.write(whole)
        console.file.flush()
        return
    spans, at = [], 0
    for part, style in pieces:
        if style and part:
            spans.append(Span(at, at + len(part), style))
        at += len(part)
    # soft_wrap: each department stays one line (the terminal folds a long one).
    console.print(Text(whole.rstrip("\n"), spans=spans), soft_wrap=True)


def _phase_label(machine: PhaseMachine, phase: str) -> Text:
    index = machine.index(phase)
    if index is None:
        return Text.assemble(text(phase), " ", Text("(not in plan)", "red"))
    return Text.assemble(text(phase), " ", Text(f"{index + 1}/{len(machine.phases)}", "dim"))


def _count(n: int) -> Text:
    return Text(str(n)) if n else Text("·", "dim")


def _how(source: str, on_behalf_of: str) -> str:
    """How a transition's actor is known: 'on behalf of X', 'signed link', 'CLI', or ''
    (the scheduler, and rows recorded before identities were)."""
    if on_behalf_of:
        return f"on behalf of {on_behalf_of}"
    return Source(source).label if source in set(Source) else source


def _print_people(view: ProgramView, verdict: DepartmentVerdict) -> None:
    """Who decided, attested and answered in this visit, and how; the open barriers; the
    lessons learned."""
    from pilotscale.engine.people_lines import lines

    said = lines(view.plan, verdict.people)
    for title, items in (
        ("Approvals", said.decisions),
        ("Attestations", said.attestations),
        ("Champions", said.champions),
        ("Open barriers", said.barriers),
        ("Lessons learned", said.notes),
    ):
        if items:
            console.print(text(f"{title}:", "bold"))
            for item in items:
                console.print(Text.assemble("  - ", text(item)))


def _paused_note(pause: dict[str, str] | None) -> str:
    if pause is None:
        return ""
    return (
        f" — PROGRAM PAUSED by {pause['by']} on {pause['at'][:10]} ({pause['reason']}): "
        "checks skip every department"
    )


def _last_pause(session: Any, view: ProgramView) -> dict[str, str] | None:
    """Who paused the program, when and why, while it is paused (None otherwise)."""
    from pilotscale.store.waivers import program_controls

    if not view.program.paused:
        return None
    pauses = [
        c
        for c in program_controls(session=session, program_id=view.program.id or 0)
        if c.event == "pause"
    ]
    if not pauses:  # paused in the database, before pauses were recorded
        return {"by": "unknown", "at": "", "reason": ""}
    last = pauses[-1]
    return {"by": last.actor, "at": last.at.isoformat(), "reason": last.reason}


def _phase_status(phase: str | None, status: str | None) -> str:
    if not phase:
        return "—"
    return f"{phase} ({status})" if status else phase


def _stuck_label(r: GateVerdict, label: object) -> str:
    """'go-ahead (stuck: pending at 4 checks)' for a stuck gate, 'csat (waived until
    2026-12-31)' for a waived one, 'nps (advisory)' for an advisory one, else the label."""
    from pilotscale.core.controls import until_text

    if r.waived_until is not None:
        return f"{label} (waived until {until_text(r.waived_until)})"
    if r.advisory:
        label = f"{label} (advisory)"
    if not r.stuck:
        return str(label)
    return f"{label} (stuck: pending at {r.pending_checks} checks)"


def _result_label(r: GateVerdict) -> str:
    """Explain's result: 'waived until 2026-12-31', 'fail (advisory)', 'pending (stuck: ...)'."""
    from pilotscale.core.controls import until_text

    if r.waived_until is not None:
        return f"waived until {until_text(r.waived_until)}"
    return _stuck_label(r, r.outcome)


def _state_cell(word: State, verdict: DepartmentVerdict | None) -> Text:
    cell = text(str(word), _STATE_STYLE[word])
    if verdict is not None and verdict.blackout is not None:
        cell.append_text(text(f"\n{verdict.blackout_text}", "yellow"))
    return cell


def _marked(outcome: Outcome, label: object, separator: str = " ") -> Text:
    return Text.assemble(_MARK[outcome], separator, text(label))


def _phase_cell(machine: PhaseMachine, d: Department) -> Text:
    return _phase_label(machine, d.phase)


def _gates_cell(verdict: DepartmentVerdict | None) -> Text:
    if verdict is None:
        return Text("—", "dim")
    tally = {o: sum(r.outcome is o for r in verdict.gates) for o in Outcome}
    marks = [_marked(o, n, separator="") for o, n in tally.items() if n]
    return Text(" ").join(marks) if marks else Text("no gates", "dim")


def _next_step(
    machine: PhaseMachine,
    d: Department,
    verdict: DepartmentVerdict,
    remind_every: timedelta,
    program_paused: bool = False,
) -> str:
    status = Status(d.status)
    if program_paused:
        return (
            "The program is paused: checks skip every department. "
            "Resume: pilotscale program resume --reason '...'"
        )
    if verdict.blackout is not None and status is Status.active:
        return (
            f"It is {verdict.blackout_text}: no advance, no entry action and no message "
            "that can wait until then; the first check after it catches up."
        )
    if status is Status.paused:
        return f"Paused: checks skip it. Resume: pilotscale resume {d.name} --reason '...'"
    if status is Status.blocked:
        return (
            f"Blocked after {d.consecutive_failures} failing checks: fix the failing gates, then "
            f"pilotscale resume {d.name} --reason '...'"
        )
    if status is Status.rolled_back:
        return f"Rolled back to '{d.phase}': when ready, pilotscale resume {d.name} --reason '...'"
    if status is Status.aborted:
        return (
            f"Aborted. To restart, roll back: pilotscale rollback {d.name} --to PHASE "
            "--reason '...'"
        )
    if d.phase == machine.final:
        if verdict.outcome is Outcome.passed:
            return "Operating; every monitoring gate passes."
        return "Operating, but a monitoring gate does not pass: its owner has been told."
    if verdict.outcome is Outcome.passed:
        return "Every gate passes: the next readiness check advances it (or: pilotscale check)."
    failing = d.consecutive_failures
    return (
        f"Held in '{d.phase}'. Consecutive failing checks so far: {failing}. Owners are "
        f"told when a gate's result changes, then every {_span(remind_every)} (one "
        "message per check lists all of a person's gates)."
    )


def _span(every: timedelta) -> str:
    days = every / timedelta(days=1)
    if days == 7:
        return "week"
    if days == int(days):
        return f"{int(days)} days" if days != 1 else "day"
    return f"{every / timedelta(hours=1):g} hours"


def _guard(view: ProgramView, d: Department) -> str:
    """What a sustained failure of the monitoring gates would do (on_regression)."""
    plan = view.plan
    limit = plan.program.failure_limit
    phase = next((p for p in plan.phases if p.name == d.phase), None)
    target = phase.on_regression.rollback_to if phase and phase.on_regression else None
    then = f"rolls it back to '{target}'" if target else "blocks it (no on_regression)"
    return (
        f"Guarded: {limit} failing checks in a row (now {d.consecutive_failures}) alert the "
        f"gate owners, the sponsor and the lead, and {then}."
    )


def _start_outlook(view: ProgramView, d: Department, now: datetime) -> str:
    """For a department not started yet: may it start now, and if not, why not."""
    from pilotscale.core.waves import can_start, resolve_wave_rules
    from pilotscale.store.snapshot import state_of

    plan, machine = view.plan, view.machine
    states = {x.name: (x.wave, state_of(x)) for x in view.departments}
    rules = resolve_wave_rules(plan.rollout, [x.wave for x in view.departments])
    spec = plan.department(d.name)
    decision = can_start(
        department=d.name,
        wave=d.wave,
        wave_rule=rules.get(d.wave),
        states_by_department=states,
        phases=machine.phases,
        max_active=plan.rollout.max_active,
        blackouts=[(b.start, b.end, b.reason) for b in spec.blackout],
        program_paused=view.program.paused,
        today=now.date(),
        force=False,
    )
    if decision.allowed:
        return f"Not started. It may start now: pilotscale start {d.name}"
    return "Not started. It cannot start yet:\n" + "\n".join(f"  - {r}" for r in decision.reasons)


def _gate_json(r: GateVerdict) -> dict[str, Any]:
    return {
        "gate": r.gate,
        "kind": r.kind,
        "outcome": str(r.outcome),
        "observed": r.observed,
        "observed_text": r.observed_text,
        "threshold": r.threshold_text,
        "reason": r.reason,
        "pending_checks": r.pending_checks,
        "stuck": r.stuck,
        "label": r.label,
        "waived_until": r.waived_until.isoformat() if r.waived_until else None,
        "advisory": r.advisory,
    }


def _explain_json(
    view: ProgramView, d: Any, verdict: DepartmentVerdict | None, now: datetime
) -> dict[str, Any]:
    """`explain --json`: the department, each gate as in `status --json` with its owner,
    and what comes next. Keys are stable (docs in the README)."""
    from pilotscale.store.snapshot import state_of

    machine = view.machine
    started = machine.is_started(state_of(d))
    next_step = None
    if started and verdict is not None:
        next_step = _next_step(
            machine, d, verdict, view.plan.program.remind_every, view.program.paused
        )
    return {
        "program": view.plan.program.name,
        "as_of": now.isoformat(),
        "name": d.name,
        "title": d.title,
        "wave": d.wave,
        "phase": d.phase,
        "status": d.status,
        "version": d.version,
        "phase_entered_at": d.phase_entered_at.isoformat(),
        "started": started,
        # Not started: when and why it may start; otherwise null.
        "outlook": None if started else _start_outlook(view, d, now),
        "overall": str(verdict.outcome) if started and verdict is not None else None,
        "gates": [
            {**_gate_json(r), "owner": r.owner_name}
            for r in (verdict.gates if started and verdict is not None else [])
        ],
        "next_step": next_step,
    }


def _status_json(view: ProgramView, verdicts: dict[str, DepartmentVerdict], now: datetime) -> Any:
    gate = _gate_json

    return {
        "program": view.plan.program.name,
        "as_of": now.isoformat(),
        "max_active": view.plan.rollout.max_active,
        "paused": view.program.paused,
        "departments": [
            {
                "name": d.name,
                "title": d.title,
                "wave": d.wave,
                "phase": d.phase,
                "status": d.status,
                "state": _standing(view.machine, d, verdicts.get(d.name)),
                "version": d.version,
                "phase_entered_at": d.phase_entered_at.isoformat(),
                "consecutive_failures": d.consecutive_failures,
                "overall": str(verdicts[d.name].outcome) if d.name in verdicts else None,
                "gates": [gate(r) for r in verdicts[d.name].gates] if d.name in verdicts else [],
                "holding": [r.gate for r in verdicts[d.name].holding] if d.name in verdicts else [],
                "stuck": [r.gate for r in verdicts[d.name].stuck] if d.name in verdicts else [],
                "waived": [r.gate for r in verdicts[d.name].waived] if d.name in verdicts else [],
                "blackout": verdicts[d.name].blackout_text or None if d.name in verdicts else None,
            }
            for d in view.departments
        ],
    }
