"""The readiness check as a reconciler: read everything, decide purely, apply per department.

Reads are bulk (one query per kind of fact for all departments); decisions come from
the pure core; a department's decision — the phase change, its transition row, the
gate results, the entry actions of the next phase and every notification they cause
but the reminders — commits together or not at all, in a transaction shared with up to `BATCH` other
departments (a commit per department was most of a 1,000-department check). A
department that another run changed in the meantime is left alone (version check) and
picked up by the next check, so two racing checks advance it once; its batch is rolled
back and re-applied one department at a time, so only the changed one is skipped. A
retry of the same run (Prefect retries the task after a lost connection) finds what
its failed attempt committed changed too: the run's own transitions and gate results
in the store say those are its own, so they count as applied, not as changed.

The reminders (held and stuck gates, overdue approvals, champions' weekly state) wait
for the last batch: one message per person for the whole check (`engine.grouped`),
each item recorded as told so that a re-run sends nothing twice. A retry recollects
the reminders of the departments its failed attempt committed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.controls import in_blackout, paused, quiet
from pilotscale.core.decisions import Action, Decision, counts, decide, phase_counts
from pilotscale.core.facts import DepartmentFacts, latest_decisions
from pilotscale.core.grouping import split
from pilotscale.core.messages import (
    Message,
    delivered_segments,
    for_decision,
    newcomer_training,
    training_reminders,
)
from pilotscale.core.phases import Event
from pilotscale.core.roster import headcount_warnings, unknown_references
from pilotscale.core.stuck import pending_checks, stuck_gates
from pilotscale.engine.enqueue import enqueue
from pilotscale.engine.entry import entry_rows, person_ids, story_for
from pilotscale.engine.grouped import queue_grouped
from pilotscale.engine.transitions import prepare_transition, save_departments
from pilotscale.engine.verdicts import DepartmentVerdict, blackout_of, read_verdicts
from pilotscale.gcpause import without_gc
from pilotscale.models import (
    ChampionOnboarding,
    Department,
    GateResultRecord,
    Notification,
    Person,
    TrainingAssignment,
    Transition,
)
from pilotscale.plan.problems import format_path
from pilotscale.plan.schema import Plan
from pilotscale.refusal import Invalid
from pilotscale.store.committed import CheckTransition, check_transitions, committed_by_run
from pilotscale.store.id_match import id_in
from pilotscale.store.insert import insert_ignore_many
from pilotscale.store.queries import load_program_plan
from pilotscale.store.roster_rows import Newcomer, unassigned_trainees
from pilotscale.store.snapshot import (
    ProgramView,
    advanced_into_current_phase,
    load_view,
    snapshot_of,
    state_of,
)
from pilotscale.store.tables import columns_of, table_of
from pilotscale.store.versioned import ConcurrentUpdate


@dataclass
class CheckReport:
    program: str
    check_key: str
    as_of: datetime
    decisions: list[Decision] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # changed by another run meanwhile
    enqueued: int = 0  # by this attempt
    run_id: str | None = None
    # Every advance and block of this check's day among its departments, read back
    # from the store once applied, whichever attempt or run of the check made them.
    transitions: list[CheckTransition] = field(default_factory=list)
    # The plan's last phase: a hold there is an operating department being watched
    # (core.vocabulary), not a held one.
    final_phase: str = ""
    phase_order: list[str] = field(default_factory=list)  # the plan's phases, in order

    def phases(self) -> dict[str, int]:
        """Departments by phase after this check, in the plan's order of phases."""
        return phase_counts(self.decisions, self.phase_order)

    def applied(self) -> list[Decision]:
        """The decisions this run committed, in this attempt or in one that failed."""
        return [d for d in self.decisions if d.department not in self.conflicts]

    def tally(self) -> dict[str, int]:
        """Departments per action; 'hold' counts the held ones (before the last phase) and
        'watched' the holds in the last phase, so the words match the report's."""
        applied = self.applied()
        tally = {str(action): n for action, n in counts(applied).items()}
        watched = sum(
            1
            for d in applied
            if d.action is Action.hold and self.final_phase and d.before.phase == self.final_phase
        )
        tally["hold"] -= watched
        tally["watched"] = watched
        return tally

    def summary(self) -> str:
        line = check_summary(self.tally())
        if self.conflicts:
            line += f", {len(self.conflicts)} left to the next check (changed concurrently)"
        return line


def check_summary(t: Mapping[str, int]) -> str:
    """The check's one line, in the vocabulary's words: 'monitor' is operating and healthy,
    'watched' operating and watched."""
    parts = [f"{t['advance']} advanced", f"{t['hold']} held"]
    if t["block"]:
        parts.append(f"{t['block']} blocked")
    if t.get("rollback"):
        parts.append(f"{t['rollback']} rolled back (regressed)")
    watched = t.get("watched", 0)
    if t["monitor"] or watched:
        parts.append(
            f"{t['monitor'] + watched} operating ({t['monitor']} healthy, {watched} watched)"
        )
    return ", ".join(parts)


def check_key_for(view: ProgramView, now: datetime) -> str:
    """A check is identified by its day in the program's time zone."""
    return view.today(now).isoformat()


def evaluate(
    *,
    session: Session,
    view: ProgramView,
    now: datetime,
    metric_errors: Mapping[str, str] | None = None,
) -> tuple[str, list[Decision], dict[str, DepartmentVerdict]]:
    """Decide for every department of the program (read-only), from the verdicts of the
    active ones (`engine.verdicts`, as `status` shows them).

    `metric_errors` (metric name -> why its source failed) makes that metric's gates
    pending with the reason, whatever the stored observations say.
    """
    key = check_key_for(view, now)
    machine = view.machine
    evaluated = [d for d in view.departments if machine.is_evaluated(state_of(d))]
    verdicts = read_verdicts(
        session=session,
        view=view,
        now=now,
        metric_errors=metric_errors,
        departments=evaluated,
        check_key=key,
    )
    advanced = advanced_into_current_phase(
        session=session, department_ids=[d.id or 0 for d in evaluated]
    )
    decisions = []
    for d in view.departments:
        read = verdicts.get(d.name)
        entered = check_key_for(view, advanced[d.id]) if d.id in advanced else None
        decision = decide(
            plan=view.plan,
            machine=machine,
            snapshot=snapshot_of(
                d,
                entered_by_check=entered,
                gate_failures=read.failing_checks if read else None,
            ),
            facts=read.facts if read else None,
            now=now,
            check_key=key,
            verdict=read.verdict if read else None,
        )
        # The operator's controls come last: they hold what the gates would let through.
        if view.program.paused:
            decision = paused(decision)
        decision = in_blackout(decision, blackout_of(view, d.name, now))
        decisions.append(decision)
    return key, decisions, verdicts


@dataclass
class PreparedCheck:
    """Everything a check read, and what it decided; applying it needs nothing else."""

    view: ProgramView
    check_key: str
    as_of: datetime
    decisions: list[Decision]
    verdicts: dict[str, DepartmentVerdict]  # of the active departments
    overdue: dict[str, list[tuple[str, str, datetime]]]
    # Per department: active trainees with nothing assigned (joined the roster later).
    newcomers: dict[str, list[Newcomer]] = field(default_factory=dict)
    # E.g. "plan: departments[hr].headcount 180 but the roster has 150 active people".
    warnings: list[str] = field(default_factory=list)

    @property
    def facts(self) -> dict[str, DepartmentFacts]:
        return {name: v.facts for name, v in self.verdicts.items()}


@without_gc
def prepare_check(
    *,
    engine: Engine,
    now: datetime,
    program: str | None = None,
    metric_errors: Mapping[str, str] | None = None,
) -> PreparedCheck:
    """Read and decide (no writes): one query per kind of fact for all departments."""
    with Session(engine, expire_on_commit=False) as session:
        view = load_view(session=session, program=program)
        key, decisions, verdicts = evaluate(
            session=session, view=view, now=now, metric_errors=metric_errors
        )
        missing = unknown_references(view.plan, ())
        if missing:
            raise UnknownPeople([f"{format_path(path)}: {why}" for path, why in missing])
        overdue = _overdue_training(session=session, view=view, now=now)
        newcomers = _newcomers(session=session, view=view, departments=verdicts)
        warnings = _headcount_warnings(session=session, view=view)
    return PreparedCheck(view, key, now, decisions, verdicts, overdue, newcomers, warnings)


# Departments applied per transaction. A commit per department was most of a large
# check; a batch of 100 holds SQLite's write lock for about a second at most.
BATCH = 100


@without_gc
def apply_check(
    *,
    engine: Engine,
    prepared: PreparedCheck,
    run_id: str | None = None,
    actor: str = "scheduler",
    departments: Iterable[str] | None = None,
    batch: int = BATCH,
) -> CheckReport:
    """Apply the decisions, `batch` departments per transaction (see the module doc)."""
    wanted = set(departments) if departments is not None else None
    report = CheckReport(
        program=prepared.view.plan.program.name,
        check_key=prepared.check_key,
        as_of=prepared.as_of,
        decisions=[d for d in prepared.decisions if wanted is None or d.department in wanted],
        run_id=run_id,
        final_phase=prepared.view.machine.final,
        phase_order=prepared.view.plan.phase_names(),
    )
    todo = [d for d in report.decisions if d.action is not Action.skip]
    # Read once per check, not once per advancing department (each read is every person).
    people: dict[str, int] | None = None
    if any(d.action is Action.advance for d in todo):
        with Session(engine) as session:
            people = person_ids(session=session, program_id=prepared.view.program.id or 0)
    applier = _Applier(prepared=prepared, run_id=run_id, actor=actor, people=people or {})
    size = max(1, batch)
    changed: list[str] = []
    for first in range(0, len(todo), size):
        chunk = todo[first : first + size]
        try:
            report.enqueued += applier.apply(engine=engine, decisions=chunk)
        except ConcurrentUpdate:
            # Another run changed one of them since the read: the batch rolled back whole.
            # One by one, only the changed departments are left to the next check.
            for decision in chunk:
                try:
                    report.enqueued += applier.apply(engine=engine, decisions=[decision])
                except ConcurrentUpdate:
                    changed.append(decision.department)
    with Session(engine) as session:
        report.conflicts = _changed_by_others(
            session=session, prepared=prepared, run_id=run_id, changed=changed
        )
        ours = _committed_earlier(
            session=session, prepared=prepared, run_id=run_id, changed=changed
        )
    applier.recollect(engine=engine, decisions=[d for d in todo if d.department in ours])
    # One message per person for the whole check, not one per batch: the reminders wait
    # for the last batch (a check that dies before this sends them on its retry or rerun).
    report.enqueued += queue_grouped(
        engine=engine,
        plan=prepared.view.plan,
        program_id=prepared.view.program.id or 0,
        department_ids={d.name: d.id or 0 for d in prepared.view.departments},
        items=applier.items,
        check_key=prepared.check_key,
        now=prepared.as_of,
    )
    with Session(engine) as session:
        report.transitions = _transitions_of_check(
            session=session, prepared=prepared, departments={d.department for d in report.decisions}
        )
    return report


def _changed_by_others(
    *, session: Session, prepared: PreparedCheck, run_id: str | None, changed: list[str]
) -> list[str]:
    """The departments of `changed` that this run did not change itself: a task retry
    applies the same decisions again, and finds those its failed attempt committed at
    a new version. Without a run id there is nothing to tell them apart by."""
    if run_id is None or not changed:
        return changed
    ids = {prepared.view.department(name).id or 0: name for name in changed}
    ours = committed_by_run(session=session, run_id=run_id, at=prepared.as_of, department_ids=ids)
    return [name for department_id, name in ids.items() if department_id not in ours]


def _committed_earlier(
    *, session: Session, prepared: PreparedCheck, run_id: str | None, changed: list[str]
) -> set[str]:
    """The departments of `changed` that an earlier attempt of this apply committed: their
    reminders are still to be told (`_Applier.recollect`)."""
    if not changed:
        return set()
    ids = {prepared.view.department(name).id or 0: name for name in changed}
    ours = committed_by_run(session=session, run_id=run_id, at=prepared.as_of, department_ids=ids)
    return {ids[i] for i in ours}


def _transitions_of_check(
    *, session: Session, prepared: PreparedCheck, departments: set[str]
) -> list[CheckTransition]:
    """The advances and blocks of the check's local day among `departments`."""
    view = prepared.view
    zone = ZoneInfo(view.plan.program.timezone)
    day = view.today(prepared.as_of)
    found = check_transitions(
        session=session,
        program_id=view.program.id or 0,
        start=datetime.combine(day, time(), tzinfo=zone),
        end=datetime.combine(day + timedelta(days=1), time(), tzinfo=zone),
        check_key=prepared.check_key,
    )
    return [t for t in found if t.department in departments]


def run_readiness_check(
    *,
    engine: Engine,
    now: datetime,
    program: str | None = None,
    run_id: str | None = None,
    actor: str = "scheduler",
    departments: Iterable[str] | None = None,
) -> CheckReport:
    """Prepare and apply in one call (the CLI without Prefect, tests, the benchmark)."""
    prepared = prepare_check(engine=engine, now=now, program=program)
    return apply_check(
        engine=engine, prepared=prepared, run_id=run_id, actor=actor, departments=departments
    )


# The decisions that move a department, and the event each applies.
_MOVES = {Action.advance: Event.advance, Action.block: Event.block, Action.rollback: Event.rollback}


@dataclass
class _Applier:
    """Writes decisions, several departments to a transaction, in few statements: the
    department rows are read in one query, and the gate results, the entry actions of
    advancing departments and every notification are inserted at the end, one
    statement per table (an advancing department's own statements were a fifth of a
    large check)."""

    prepared: PreparedCheck
    run_id: str | None
    actor: str
    people: Mapping[str, int]
    # What the open transaction has yet to insert.
    gate_rows: list[dict[str, Any]] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    department_ids: dict[str, int] = field(default_factory=dict)
    visits: dict[int, datetime] = field(default_factory=dict)  # as written in the batch
    onboard_rows: list[dict[str, Any]] = field(default_factory=list)
    assignment_rows: list[dict[str, Any]] = field(default_factory=list)
    changes: list[tuple[Department, dict[str, Any]]] = field(default_factory=list)
    transition_rows: list[Transition] = field(default_factory=list)
    # When approvers were first asked, per department and gate, for the open batch.
    requested: dict[str, dict[str, datetime]] = field(default_factory=dict)
    # The groupable intents (core.grouping) of the open batch, and of the committed ones.
    batch_items: list[Message] = field(default_factory=list)
    items: list[Message] = field(default_factory=list)

    def apply(self, *, engine: Engine, decisions: list[Decision]) -> int:
        """One transaction; ConcurrentUpdate (and nothing written) if any department
        changed since the check read it. Returns the number of messages enqueued."""
        view = self.prepared.view
        reads = {d.department: view.department(d.department) for d in decisions}
        with Session(engine, expire_on_commit=False) as session, session.begin():
            rows = {
                row.id: row
                for row in session.exec(
                    select(Department).where(
                        id_in(session, col(Department.id), (r.id or 0 for r in reads.values()))
                    )
                )
            }
            self._reset()
            self.batch_items = []
            checked: list[tuple[Department, Decision]] = []
            for decision in decisions:
                read = reads[decision.department]
                row = rows.get(read.id)
                if row is None or row.version != read.version:
                    raise ConcurrentUpdate(decision.department)
                checked.append((row, decision))
            self.requested = _approval_requests(session=session, waiting=_waiting(checked))
            enqueued = 0
            for row, decision in checked:
                enqueued += self._department(session=session, row=row, decision=decision)
            enqueued += self._flush(session=session)
        # Committed: its reminders are told at the check's end (a batch rolled back
        # for a concurrent change is applied again one department at a time).
        self.items += self.batch_items
        return enqueued

    def _department(self, *, session: Session, row: Department, decision: Decision) -> int:
        prepared, view = self.prepared, self.prepared.view
        plan, now, check_key = view.plan, prepared.as_of, prepared.check_key
        entered_at = row.phase_entered_at
        self.gate_rows += _gate_rows(
            row=row,
            decision=decision,
            check_key=check_key,
            now=now,
            run_id=self.run_id,
            read=prepared.verdicts.get(decision.department),
        )
        # last_check_key names the check that last counted a failure, so a check that found
        # only pending gates still counts its failure if it is re-run once the data is in.
        counted = decision.consecutive_failures > row.consecutive_failures
        bookkeeping = {
            "consecutive_failures": decision.consecutive_failures,
            "last_check_key": check_key if counted else row.last_check_key,
        }
        # Written at the end of the batch (`_flush`), version-checked all together.
        values: dict[str, Any] | None = None
        if decision.action in _MOVES:
            _, values, moved = prepare_transition(
                department=row,
                machine=view.machine,
                event=_MOVES[decision.action],
                actor=self.actor,
                reason=decision.reason,
                now=now,
                run_id=self.run_id,
                # A regression rolls back to the phase the decision names.
                target=decision.after.phase if decision.action is Action.rollback else None,
                extra=bookkeeping,
            )
            self.transition_rows.append(moved)
        elif (row.consecutive_failures, row.last_check_key) != tuple(bookkeeping.values()):
            values = bookkeeping
        if values is not None:
            self.changes.append((row, values))
        visit = values.get("phase_entered_at", entered_at) if values else entered_at
        self.messages += self._messages(
            row=row, decision=decision, entered_at=entered_at, requested=self.requested
        )
        blackout = blackout_of(view, row.name, now)
        if blackout is None:  # newcomers' training is an entry action: it waits too
            self._newcomers(session=session, row=row, phase=decision.before.phase)
        self.department_ids[row.name] = row.id or 0
        self.visits[row.id or 0] = visit
        if decision.action is not Action.advance:
            return 0
        # The decision's messages are queued before the next phase's, as they always have
        # been: where two share a dedupe key, the first one queued is the one kept.
        work, onboard, assignments = entry_rows(
            plan=plan,
            department=row,
            phase=decision.after.phase,
            previous_phase=decision.before.phase,
            now=now,
            people=self.people,
            story=story_for(
                session=session, plan=plan, department=row, phase=decision.after.phase, now=now
            ),
        )
        self.onboard_rows += onboard
        self.assignment_rows += assignments
        self.messages += work.messages
        return 0

    def _messages(
        self,
        *,
        row: Department,
        decision: Decision,
        entered_at: datetime,
        requested: Mapping[str, Mapping[str, datetime]],
    ) -> list[Message]:
        """What the decision tells, and the department's overdue training reminders."""
        prepared, plan = self.prepared, self.prepared.view.plan
        now, check_key = prepared.as_of, prepared.check_key
        read = prepared.verdicts.get(decision.department)
        approvals = read.facts.approvals if read else {}
        approved = {
            gate: [by for by, fact in latest_decisions(given).items() if not fact.rejects]
            for gate, given in approvals.items()
        }
        # In a blackout only urgent messages go now; the first check after it finds the
        # same gates and the same overdue training, and queues the rest then.
        blackout = blackout_of(prepared.view, row.name, now)
        messages = quiet(
            for_decision(
                plan,
                decision,
                check_key=check_key,
                phase_entered_at=entered_at,
                now=now,
                approved_by=approved,
                requested_at=requested.get(row.name, {}),
                stuck=_stuck_after_this_check(plan, read),
            ),
            blackout,
        )
        spec = plan.department(row.name)
        overdue = prepared.overdue.get(decision.department, [])
        reminders = training_reminders(plan, spec, overdue, check_key=check_key, now=now)
        return messages + quiet(reminders, blackout)

    def recollect(self, *, engine: Engine, decisions: list[Decision]) -> None:
        """The reminders of departments an earlier attempt of this run committed (a task
        retry finds them changed): they were never told, since an attempt tells its
        reminders only once all its batches are in. Read-only; what they tell does not
        depend on the commit (a hold keeps its visit, an advance tells no visit's)."""
        if not decisions:
            return
        view = self.prepared.view
        ids = [view.department(d.department).id or 0 for d in decisions]
        with Session(engine, expire_on_commit=False) as session:
            rows = {
                r.name: r
                for r in session.exec(
                    select(Department).where(id_in(session, col(Department.id), ids))
                )
            }
            checked = [(rows[d.department], d) for d in decisions if d.department in rows]
            requested = _approval_requests(session=session, waiting=_waiting(checked))
        for row, decision in checked:
            messages = self._messages(
                row=row, decision=decision, entered_at=row.phase_entered_at, requested=requested
            )
            self.items += split(messages)[1]

    def _newcomers(self, *, session: Session, row: Department, phase: str) -> None:
        """Assign the training already delivered to people who joined the roster since:
        one bulk insert per department; repeats are dropped by the unique key."""
        newcomers = self.prepared.newcomers.get(row.name)
        if not newcomers:
            return
        plan = self.prepared.view.plan
        ids = {n.key: n.person_id for n in newcomers}
        members = [p for p in (plan.find_person(n.key) for n in newcomers) if p is not None]
        assignments, messages = newcomer_training(
            plan, plan.department(row.name), phase, members=members, now=self.prepared.as_of
        )
        self.assignment_rows += [
            {
                "department_id": row.id or 0,
                "person_id": ids[a.person],
                "segment": a.segment,
                "module_id": a.module,
                "assigned_at": self.prepared.as_of,
                "due_at": a.due_at,
            }
            for a in assignments
        ]
        self.messages += messages

    def _reset(self) -> None:
        self.gate_rows, self.messages, self.department_ids, self.visits = [], [], {}, {}
        self.onboard_rows, self.assignment_rows = [], []
        self.changes, self.transition_rows = [], []

    def _flush(self, *, session: Session) -> int:
        save_departments(session=session, changes=self.changes, now=self.prepared.as_of)
        session.add_all(self.transition_rows)
        insert_ignore_many(session=session, model=GateResultRecord, rows=self.gate_rows)
        insert_ignore_many(session=session, model=ChampionOnboarding, rows=self.onboard_rows)
        insert_ignore_many(session=session, model=TrainingAssignment, rows=self.assignment_rows)
        single, items = split(self.messages)
        self.batch_items += items
        enqueued = enqueue(
            session=session,
            plan=self.prepared.view.plan,
            program_id=self.prepared.view.program.id or 0,
            department_ids=self.department_ids,
            messages=single,
            now=self.prepared.as_of,
            visits=self.visits,
        )
        self._reset()
        return enqueued


def _waiting(
    checked: Iterable[tuple[Department, Decision]],
) -> dict[int, tuple[str, datetime, list[str]]]:
    """The departments held on approval gates: id -> (name, entered_at, gates)."""
    out: dict[int, tuple[str, datetime, list[str]]] = {}
    for row, decision in checked:
        if decision.verdict is None or row.id is None:
            continue
        gates = [r.gate for r in decision.verdict.holding if r.kind == "approval"]
        if gates:
            out[row.id] = (row.name, row.phase_entered_at, gates)
    return out


def _approval_requests(
    *, session: Session, waiting: Mapping[int, tuple[str, datetime, list[str]]]
) -> dict[str, dict[str, datetime]]:
    """When each pending approval gate's approvers were first asked in this phase visit,
    per department name: `waiting` maps department id to (name, entered_at, gates).

    One indexed query for the whole batch, and it reads the outbox, which is where the
    request was recorded in the first place.
    """
    if not waiting:
        return {}
    n = columns_of(Notification)
    rows = session.execute(
        select(n.department_id, n.dedupe_key, n.created_at).where(
            id_in(session, n.department_id, waiting), n.event == "approval_requested"
        )
    ).all()
    # A request's dedupe key is "approval_requested|<dept>:<gate>:<entered_at>|<to>|<channel>".
    abouts = {
        f"{name}:{gate}:{entered_at.isoformat()}": (name, gate)
        for name, entered_at, gates in waiting.values()
        for gate in gates
    }
    out: dict[str, dict[str, datetime]] = {}
    for _, key, created_at in rows:
        found = abouts.get(key.split("|", 2)[1]) if key.count("|") >= 2 else None
        if found is None:
            continue
        name, gate = found
        at = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        first = out.setdefault(name, {}).get(gate)
        if first is None or at < first:
            out[name][gate] = at
    return out


def _stuck_after_this_check(plan: Plan, read: DepartmentVerdict | None) -> dict[str, int]:
    """The gates this check finds stuck: the recorded pending checks, and this one."""
    if read is None:
        return {}
    recorded = {g.gate: g.pending_checks for g in read.gates}
    return stuck_gates(plan, pending_checks(read.verdict, recorded, counting_this_check=True))


def _gate_rows(
    *,
    row: Department,
    decision: Decision,
    check_key: str,
    now: datetime,
    run_id: str | None,
    read: DepartmentVerdict | None,
) -> list[dict[str, Any]]:
    if decision.verdict is None or read is None:
        return []
    return [
        {
            "department_id": row.id,
            "phase": decision.before.phase,
            "gate": g.gate,
            "kind": g.kind,
            "outcome": str(g.outcome),
            "observed": g.observed,
            "observed_text": g.observed_text,
            "threshold_text": g.threshold_text,
            "reason": g.reason,
            "owner": g.owner,
            "evaluated_at": now,
            "check_key": check_key,
            "run_id": run_id,
        }
        for g in read.gates
    ]


def _overdue_training(
    *, session: Session, view: ProgramView, now: datetime
) -> dict[str, list[tuple[str, str, datetime]]]:
    """Incomplete assignments past due, per department: (person key, module, due) — one query."""
    # Core columns: thousands of rows, and no ORM objects needed for any of them.
    t, d, p = columns_of(TrainingAssignment), columns_of(Department), columns_of(Person)
    rows = session.execute(
        select(d.name, p.key, t.module_id, t.due_at)
        .select_from(table_of(TrainingAssignment))
        .join(table_of(Department), d.id == t.department_id)
        .join(table_of(Person), p.id == t.person_id)
        .where(
            d.program_id == (view.program.id or 0),
            t.completed_at.is_(None),
            t.due_at <= now,
            p.removed_at.is_(None),  # nobody reminds people who left
        )
    ).all()
    out: dict[str, list[tuple[str, str, datetime]]] = {}
    for dept, person, module, due in rows:
        out.setdefault(dept, []).append((person, module, due))
    return out


class UnknownPeople(Invalid):
    """The plan names people who are neither in it nor on the active roster (any more)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "the plan names people who are neither under people nor on the active roster: "
            + "; ".join(problems)
        )


def _newcomers(
    *, session: Session, view: ProgramView, departments: Mapping[str, Any]
) -> dict[str, list[Newcomer]]:
    """Active trainees of the checked departments that nothing was assigned to, among
    the segments their department's phases have delivered so far."""
    rows = {d.id or 0: d for d in view.departments if d.name in departments}
    # Only departments whose phases delivered some training are read: the others' people
    # all have nothing assigned (at 1,000 departments, 54,000 rows read for nothing).
    delivered = {
        id_: segments
        for id_, row in rows.items()
        if (segments := delivered_segments(view.plan, row.phase))
    }
    found: dict[str, list[Newcomer]] = {}
    for newcomer in unassigned_trainees(session=session, department_ids=sorted(delivered)):
        if newcomer.segment in delivered[newcomer.department_id]:
            found.setdefault(rows[newcomer.department_id].name, []).append(newcomer)
    return found


def _headcount_warnings(*, session: Session, view: ProgramView) -> list[str]:
    """Where the plan's headcount is more than 10 % off the roster's active people (the
    engine's plan holds those counts as headcounts; the applied plan, the planned ones)."""
    if view.program.roster_sha256 is None:
        return []
    applied = load_program_plan(session=session, program=view.program, people=False)
    active = {d.name: d.headcount for d in view.plan.departments}
    return [f"plan: {why}" for _, why in headcount_warnings(applied, active)]
