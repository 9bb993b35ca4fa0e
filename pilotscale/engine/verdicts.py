"""The one way to read gate verdicts: every department's gates, evaluated as of a moment.

The readiness check decides from them; `status`, `explain`, the report and the weekly
digest show them. All read them here, so what a lead sees is what the scheduler acts on:
the same facts (one query per kind of fact for all departments), the same failures of
metric sources (their gates pend, with the reason), the same owners.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from sqlmodel import Session

from pilotscale.core.controls import (
    Waiver,
    active_waivers,
    apply_waivers,
    blackout_on,
    blackout_text,
)
from pilotscale.core.decisions import gates_for, holding_summary
from pilotscale.core.facts import DepartmentFacts
from pilotscale.core.gates import AnyGate, PhaseVerdict, evaluate_phase
from pilotscale.core.recipients import gate_owner, gate_owners
from pilotscale.core.states import Outcome
from pilotscale.core.stuck import pending_checks, stuck_gates
from pilotscale.core.waves import Blackout
from pilotscale.gcpause import without_gc
from pilotscale.models import Department
from pilotscale.plan.schema import Plan
from pilotscale.store.fact_queries import DepartmentRef, load_facts
from pilotscale.store.pending_streaks import failing_streaks, pending_streaks
from pilotscale.store.people_queries import PEOPLE_KINDS, PeopleSide, load_people_side
from pilotscale.store.side_read import SideRead
from pilotscale.store.snapshot import ProgramView, state_of
from pilotscale.store.waivers import waivers_of


@dataclass(frozen=True)
class GateVerdict:
    """One gate of a department's current phase, as evaluated, with its owner."""

    gate: str
    title: str  # the phase's gate title (an implicit min_soak gate's too)
    kind: str
    outcome: Outcome
    observed: float | None
    observed_text: str
    threshold_text: str
    reason: str  # the sentence: what is missing and who should act
    owner: str  # person id: the lead for implicit gates and vacant roles
    owner_name: str
    # Consecutive recorded readiness checks it was pending in this visit (0 unless pending
    # now), and whether that reached its pending limit (core.stuck). The check in progress
    # adds itself (engine.check); status and the report show what the checks recorded.
    pending_checks: int = 0
    stuck: bool = False
    # Set aside by a lead until a date (core.controls): it counts as passing meanwhile.
    waived_until: datetime | None = None
    advisory: bool = False  # shown and notified, never holds (`advisory: true`)

    @property
    def label(self) -> str:
        """The outcome as shown: 'waived' for a waived gate, e.g. 'fail (advisory)'."""
        if self.waived_until is not None:
            return "waived"
        return f"{self.outcome} (advisory)" if self.advisory else str(self.outcome)

    @property
    def passes(self) -> bool:
        return self.outcome is Outcome.passed


@dataclass(frozen=True)
class DepartmentVerdict:
    department: str
    phase: str
    verdict: PhaseVerdict  # the core's, which decisions and messages take
    gates: tuple[GateVerdict, ...]
    facts: DepartmentFacts
    # Who did what in the visit and how (approvers' latest decisions, attestations,
    # champions' answers, open barriers): read with `with_people=True` only.
    people: PeopleSide = field(default_factory=PeopleSide)
    # The blackout the department is in at the moment asked about: no advance, no entry
    # action, no message that can wait (core.controls).
    blackout: Blackout | None = None
    # In the last phase: per gate, the recorded checks in a row that found it failing
    # (the check in progress left out), which regress the department at failure_limit.
    failing_checks: Mapping[str, int] = field(default_factory=dict)

    @property
    def blackout_text(self) -> str:
        """'in blackout until 2026-12-31 (quarter close)', or '' outside blackouts."""
        return blackout_text(self.blackout) if self.blackout else ""

    @property
    def waived(self) -> tuple[GateVerdict, ...]:
        return tuple(g for g in self.gates if g.waived_until is not None)

    @property
    def outcome(self) -> Outcome:
        return self.verdict.outcome

    @property
    def passes(self) -> bool:
        """Every gate passes: an active department in a phase before the last advances."""
        return self.verdict.outcome is Outcome.passed

    @property
    def holding(self) -> tuple[GateVerdict, ...]:
        """The gates that keep it where it is (failed or pending), in the phase's order."""
        return tuple(g for g in self.gates if not g.passes)

    @property
    def stuck(self) -> tuple[GateVerdict, ...]:
        """The gates pending at too many checks in a row (core.stuck)."""
        return tuple(g for g in self.gates if g.stuck)

    @property
    def why(self) -> str:
        """'failing: a, b; pending: c; stuck: c', or empty when every gate passes."""
        summary = holding_summary(self.verdict)
        if self.stuck:
            summary += "; stuck: " + ", ".join(g.gate for g in self.stuck)
        return summary


# Thousands of facts and verdicts that all survive the call: the collector's passes over
# them cost a third of it (1.5 s against 1.0 s of CPU at 2,000 departments).
@without_gc
def read_verdicts(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
    departments: Iterable[Department] | None = None,
    names: Iterable[str] | None = None,
    with_people: bool | Collection[str] = False,
    check_key: str | None = None,
    parallel: bool = False,
    known: Mapping[str, DepartmentVerdict] | None = None,
) -> dict[str, DepartmentVerdict]:
    """The verdict of each department (by name) on its current phase's gates, as of `now`.

    Read-only: nothing is recorded. By default every started department whose phase the
    plan still has, paused and blocked ones too, so a lead can see what a resume would
    meet; `departments` names exactly which (the check: the active ones), `names` narrows
    either. `metric_errors` (metric name -> why its source failed) makes that metric's
    gates pending with the reason, whatever the stored observations say. `with_people`
    adds each department's people's side (`store.people_queries`), for the views that
    show who decided, attested or answered, and how (explain, the report, the web app);
    or the kinds of it to read (PEOPLE_KINDS), for a view that shows only those.
    `check_key` names the readiness check in progress: its own recorded results (a
    re-run's) are left out of the checks a gate has been pending, so a re-run counts once.
    `parallel`: some facts are read on a second connection at the same time
    (`store.side_read`), for read-only views whose session has written nothing.

    `known`: verdicts read earlier as of the same `now` and `metric_errors` whose facts
    nothing has written since (the readiness check's, after it applied its decisions:
    `engine.check_facts`). A department still in the visit one was read in keeps its
    facts and evaluation; the recorded checks, the people's side and the rest are read
    again, since the check itself records them.
    """
    machine, plan = view.machine, view.plan
    if departments is None:
        departments = (
            d
            for d in view.departments
            if machine.is_started(state_of(d)) and machine.index(d.phase) is not None
        )
    wanted = set(names) if names is not None else None
    targets = [d for d in departments if wanted is None or d.name in wanted]
    refs = [DepartmentRef(d.id or 0, d.name, d.phase, d.phase_entered_at) for d in targets]
    kept = _same_visit(known or {}, targets, metric_errors)
    streaks_read = SideRead(
        session=session,
        read=lambda own: pending_streaks(session=own, departments=refs, exclude_check=check_key),
        parallel=parallel,
    )
    facts = load_facts(
        session=session,
        plan=plan,
        departments=[r for r in refs if r.name not in kept],
        now=now,
        metric_errors=metric_errors,
        parallel=parallel,
    )
    people = (
        load_people_side(
            session=session,
            departments=refs,
            now=now,
            kinds=PEOPLE_KINDS if with_people is True else with_people,
        )
        if with_people
        else {}
    )
    streaks = streaks_read.result()
    monitored = [r for r in refs if r.phase == machine.final]
    failing = failing_streaks(session=session, departments=monitored, exclude_check=check_key)
    waivers = _waivers(
        session=session, view=view, departments=[d for d in targets if d.name not in kept]
    )
    gates: dict[str, list[AnyGate]] = {}
    out: dict[str, DepartmentVerdict] = {}
    for d in targets:
        if (same := kept.get(d.name)) is not None:
            recorded = streaks.get(d.name, {})
            checks = pending_checks(same.verdict, recorded, counting_this_check=False)
            out[d.name] = replace(
                same,
                gates=_restreaked(plan, same.gates, checks),
                people=people.get(d.name, PeopleSide()),
                blackout=blackout_of(view, d.name, now),
                failing_checks=failing.get(d.name, {}),
            )
            continue
        # A department with its own numbers has its own gates; the others share the plan's.
        key = d.name if plan.department(d.name).gate_overrides else ""
        phase_gates = gates.get(f"{d.phase}|{key}")
        if phase_gates is None:
            phase_gates = gates[f"{d.phase}|{key}"] = gates_for(plan, d.phase, key or None)
        owners = gate_owners(plan, d.name, phase_gates)
        names_of = {gate: plan.person(owner).name for gate, owner in owners.items()}
        verdict = evaluate_phase(phase_gates, facts[d.name], now=now, owner_names=names_of)
        verdict = apply_waivers(verdict, waivers.get(d.name, ()), now)
        checks = pending_checks(verdict, streaks.get(d.name, {}), counting_this_check=False)
        out[d.name] = DepartmentVerdict(
            department=d.name,
            phase=d.phase,
            verdict=verdict,
            gates=_gates(
                view, d.name, phase_gates, verdict, checks, waivers.get(d.name, ()), now, owners
            ),
            facts=facts[d.name],
            people=people.get(d.name, PeopleSide()),
            blackout=blackout_of(view, d.name, now),
            failing_checks=failing.get(d.name, {}),
        )
    return out


def _same_visit(
    known: Mapping[str, DepartmentVerdict],
    targets: Iterable[Department],
    metric_errors: Mapping[str, str] | None,
) -> dict[str, DepartmentVerdict]:
    """The known verdicts of the targets still in the visit they were read in, read with
    the same failing sources: a moved department (advanced, rolled back) has other gates
    and other facts."""
    errors = dict(metric_errors or {})
    out = {}
    for d in targets:
        same = known.get(d.name)
        if (
            same is not None
            and same.phase == d.phase
            and _aware(same.facts.phase_entered_at) == _aware(d.phase_entered_at)
            and dict(same.facts.metric_errors) == errors
        ):
            out[d.name] = same
    return out


def _restreaked(
    plan: Plan, gates: tuple[GateVerdict, ...], checks: Mapping[str, int]
) -> tuple[GateVerdict, ...]:
    """The gates with the pending checks the store records now (a check records its own)."""
    stuck = stuck_gates(plan, checks)
    return tuple(
        replace(g, pending_checks=checks.get(g.gate, 0), stuck=g.gate in stuck) for g in gates
    )


def blackout_of(view: ProgramView, department: str, now: datetime) -> Blackout | None:
    """The department's blackout on `now`'s local day (the program's time zone), if any."""
    spec = view.plan.departments_by_name.get(department)
    if spec is None:
        return None
    return blackout_on([(b.start, b.end, b.reason) for b in spec.blackout], view.today(now))


def _gates(
    view: ProgramView,
    department: str,
    phase_gates: list[AnyGate],
    verdict: PhaseVerdict,
    checks: Mapping[str, int],
    waivers: Iterable[Waiver],
    now: datetime,
    owners: Mapping[str, str],
) -> tuple[GateVerdict, ...]:
    """`owners`: gate -> its owner's person id in this department (`gate_owners`); a gate
    the phase's list lacks (a result of an implicit gate) is resolved here."""
    plan = view.plan
    stuck = stuck_gates(plan, checks)
    active = active_waivers(waivers, now)
    spec = plan.department(department)
    titles = {g.name: g.title for g in phase_gates}
    out = []
    for r in verdict.results:
        owner = owners.get(r.gate) or gate_owner(plan, spec, r.gate)
        name = plan.person(owner).name
        # The core's result, field for field, and what the plan says about the gate.
        out.append(
            GateVerdict(
                **vars(r),
                title=titles.get(r.gate, r.gate),
                owner=owner,
                owner_name=name,
                pending_checks=checks.get(r.gate, 0),
                stuck=r.gate in stuck,
                waived_until=active[r.gate].until if r.gate in verdict.waived else None,
                advisory=r.gate in verdict.advisory,
            )
        )
    return tuple(out)


def _waivers(
    *, session: Session, view: ProgramView, departments: Iterable[Department]
) -> dict[str, list[Waiver]]:
    """Department -> the waivers recorded in its current visit to its phase (the core
    picks the one in force at the moment asked about). One query."""
    rows = {d.id or 0: d for d in departments}
    names = {p.id: p.name for p in view.plan.people}
    out: dict[str, list[Waiver]] = {}
    for department_id, found in waivers_of(session=session, department_ids=list(rows)).items():
        d = rows[department_id]
        entered = _aware(d.phase_entered_at)
        for w in found:
            if w.phase != d.phase or _aware(w.at) < entered:
                continue  # waived in an earlier visit: a waiver does not outlive a move
            rule = Waiver(w.gate, w.until, names.get(w.actor, w.actor), w.reason, _aware(w.at))
            out.setdefault(d.name, []).append(rule)
    return out


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
