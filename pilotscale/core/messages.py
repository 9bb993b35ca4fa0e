"""Which notifications a decision causes, to whom, about what: pure message intents.

Each intent names a template event, a recipient (a person id, or `channel:NAME`
for a department chat channel), and `about`: what the message concerns, chosen
so that the dedupe key (event, about, recipient, channel) is the same whenever
the same thing would be said again — re-running a check, a start or an entry
action never sends anything twice, while next week's check may remind again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pilotscale.core.decisions import Action, Decision
from pilotscale.core.gates import GateResult
from pilotscale.core.recipients import gate_owner, owner_or_lead, sponsor_or_lead
from pilotscale.core.roster import effective_segment, is_trainee, role_names
from pilotscale.core.states import Outcome
from pilotscale.core.stories import StoryFacts, story_context, story_recipients
from pilotscale.plan.schema import (
    ApprovalGate,
    Department,
    EntryAction,
    Person,
    Plan,
    TrainingModule,
)

# The one message per person per check that lists their open items (core.grouping).
GROUPED = "your_open_items"
# A recipient that is a department's chat channel rather than a person.
CHANNEL_RECIPIENT = "channel:"

# Events a person must act on reach them even when they asked for the digest only.
ACTION_REQUIRED = frozenset(
    {
        GROUPED,
        "gate_held",
        "approval_requested",
        "approval_reminder",
        "approval_escalation",
        "gate_stuck",
        "department_blocked",
        "monitoring_regressed",
        "training_assigned",
        "training_reminder",
        "champion_welcome",
        "delivery_failure",
        "approval_rejected",
        "barrier_reported",
    }
)


@dataclass(frozen=True)
class Message:
    event: str
    recipient: str
    about: str
    department: str | None
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def action_required(self) -> bool:
        if self.event == GROUPED:
            # A champion's weekly state alone asks nothing: the digest covers it.
            items = self.context.get("items") or ()
            return any(i.get("kind") != "state" for i in items) or bool(self.context.get("more"))
        return self.event in ACTION_REQUIRED


@dataclass(frozen=True)
class Job:
    """A queued message claimed for sending, detached from the database: what the
    outbox returns (pilotscale.store.outbox.claim) and the channels deliver."""

    id: str
    program_id: int
    event: str
    recipient_key: str
    channel: str
    subject: str
    context: Mapping[str, Any]
    created_at: datetime
    attempts: int  # including this one: also the fencing token of its claim


@dataclass(frozen=True)
class Assignment:
    person: str
    segment: str
    module: str
    due_at: datetime


@dataclass(frozen=True)
class EntryWork:
    """What entering a phase does: records to create and the messages announcing them."""

    onboard: tuple[str, ...] = ()  # champion person ids
    assignments: tuple[Assignment, ...] = ()
    messages: tuple[Message, ...] = ()


# --------------------------------------------------------------------------- contexts


def person_context(plan: Plan, person_id: str) -> dict[str, Any]:
    p = plan.person(person_id)
    return {"id": p.id, "name": p.name, "email": p.email, "chat": p.chat}


def department_context(dept: Department) -> dict[str, Any]:
    return {"name": dept.name, "title": dept.title, "headcount": dept.headcount, "wave": dept.wave}


def program_context(plan: Plan) -> dict[str, Any]:
    return {"name": plan.program.name, "title": plan.program.title}


# Short names inside this module (its builders predate the public ones above).
_person, _department, _program = person_context, department_context, program_context


def _result(result: GateResult, plan: Plan, dept: Department) -> dict[str, Any]:
    gate = next((g for g in plan.gates if g.name == result.gate), None)
    return {
        "gate": result.gate,
        "title": gate.title if gate else result.gate,
        "kind": result.kind,
        "outcome": str(result.outcome),
        "observed": result.observed_text,
        "threshold": result.threshold_text,
        "reason": result.reason,
        "how_to_fix": gate.how_to_fix if gate else "",
        "owner": _person(plan, gate_owner(plan, dept, result.gate)),
        "advisory": bool(gate and gate.advisory),
    }


def _module(module: TrainingModule, due_at: datetime | None) -> dict[str, Any]:
    return {
        "id": module.id,
        "title": module.title,
        "url": module.url,
        "minutes": module.minutes,
        "due": due_at.date().isoformat() if due_at else None,
    }


# --------------------------------------------------------------------------- decisions


def for_decision(
    plan: Plan,
    decision: Decision,
    *,
    check_key: str,
    phase_entered_at: datetime,
    now: datetime,
    approved_by: Mapping[str, Iterable[str]] | None = None,
    requested_at: Mapping[str, datetime] | None = None,
    stuck: Mapping[str, int] | None = None,
) -> list[Message]:
    """Messages a readiness-check decision causes (entry actions are separate).

    `approved_by`: approval gate -> who approved in this visit; `requested_at`: approval
    gate -> when its approvers were first asked in this visit (None: not yet); `stuck`:
    gate -> checks it has been pending, for the gates past their pending limit.
    """
    dept = plan.department(decision.department)
    base = {"program": _program(plan), "department": _department(dept), "as_of": now.isoformat()}
    if decision.action is Action.advance:
        return _advanced(plan, dept, decision, base, check_key) + _advisory(
            plan, dept, decision, base, check_key
        )
    if decision.action is Action.rollback or (
        decision.action is Action.block and decision.before.phase == plan.phases[-1].name
    ):
        return _regressed(plan, dept, decision, base, check_key)
    if decision.action is Action.monitor:
        return _advisory(plan, dept, decision, base, check_key) + _champion_state(
            plan, dept, decision, base, phase_entered_at=phase_entered_at, now=now
        )
    if decision.action is Action.block:
        return _blocked(plan, dept, decision, base, check_key)
    if decision.action is Action.hold and decision.verdict is not None:
        return (
            _held(
                plan,
                dept,
                decision,
                base,
                check_key=check_key,
                phase_entered_at=phase_entered_at,
                now=now,
                approved_by=approved_by or {},
                requested_at=requested_at or {},
            )
            + _stuck(
                plan, dept, decision, base, phase_entered_at=phase_entered_at, stuck=stuck or {}
            )
            + _champion_state(
                plan, dept, decision, base, phase_entered_at=phase_entered_at, now=now
            )
        )
    return []


def _advanced(
    plan: Plan, dept: Department, decision: Decision, base: dict[str, Any], check_key: str
) -> list[Message]:
    context = {
        **base,
        "from_phase": decision.before.phase,
        "to_phase": decision.after.phase,
        "to_phase_title": plan.phase(decision.after.phase).title or decision.after.phase,
        "gates": [_result(r, plan, dept) for r in decision.verdict.results]
        if decision.verdict
        else [],
    }
    about = f"{dept.name}:{decision.after.phase}"
    people = _unique([sponsor_or_lead(plan, dept), plan.program.lead, *dept.champions])
    return [Message("department_advanced", p, about, dept.name, context) for p in people]


def _advisory(
    plan: Plan, dept: Department, decision: Decision, base: dict[str, Any], check_key: str
) -> list[Message]:
    """An advisory gate that does not pass tells its owner even when the department moves
    on (on a hold its owner hears of it with the gates that hold)."""
    if decision.verdict is None:
        return []
    messages = []
    phase = decision.before.phase
    for result in decision.verdict.holding:
        if result.gate not in decision.verdict.advisory:
            continue
        gate = next((g for g in plan.gates if g.name == result.gate), None)
        owner = owner_or_lead(plan, dept, gate.owner if gate else "lead")
        ctx = {**base, "phase": phase, "gate": _result(result, plan, dept)}
        about = f"{dept.name}:{phase}:{result.gate}:{check_key}"
        messages.append(Message("gate_held", owner, about, dept.name, ctx))
    return messages


def _blocked(
    plan: Plan, dept: Department, decision: Decision, base: dict[str, Any], check_key: str
) -> list[Message]:
    context = {
        **base,
        "phase": decision.before.phase,
        "reason": decision.reason,
        "failures": decision.consecutive_failures,
        "failure_limit": plan.program.failure_limit,
        "gates": [_result(r, plan, dept) for r in decision.verdict.holding]
        if decision.verdict
        else [],
    }
    about = f"{dept.name}:{decision.before.phase}:blocked:{check_key}"
    people = _unique([sponsor_or_lead(plan, dept), plan.program.lead])
    return [Message("department_blocked", p, about, dept.name, context) for p in people]


def _regressed(
    plan: Plan, dept: Department, decision: Decision, base: dict[str, Any], check_key: str
) -> list[Message]:
    """The last phase's monitoring failed failure_limit checks: the owners of the failing
    gates, the sponsor and the lead hear it in one message each, whether the plan rolled
    the department back or it is blocked."""
    failing = (
        [r for r in decision.verdict.results if r.outcome is Outcome.failed]
        if decision.verdict
        else []
    )
    rolled_back = decision.action is Action.rollback
    context = {
        **base,
        "phase": decision.before.phase,
        "reason": decision.reason,
        "failures": decision.consecutive_failures,
        "failure_limit": plan.program.failure_limit,
        "gates": [_result(r, plan, dept) for r in failing],
        "rolled_back_to": decision.after.phase if rolled_back else None,
        "status": str(decision.after.status),
        "lead": _person(plan, plan.program.lead),
    }
    about = f"{dept.name}:{decision.before.phase}:regressed:{check_key}"
    owners = [gate_owner(plan, dept, r.gate) for r in failing]
    people = _unique([*owners, sponsor_or_lead(plan, dept), plan.program.lead])
    return [Message("monitoring_regressed", p, about, dept.name, context) for p in people]


def _held(
    plan: Plan,
    dept: Department,
    decision: Decision,
    base: dict[str, Any],
    *,
    check_key: str,
    phase_entered_at: datetime,
    now: datetime,
    approved_by: Mapping[str, Iterable[str]],
    requested_at: Mapping[str, datetime],
) -> list[Message]:
    assert decision.verdict is not None
    messages: list[Message] = []
    phase = decision.before.phase
    visit = phase_entered_at.isoformat()
    for result in decision.verdict.holding:
        gate = next((g for g in plan.gates if g.name == result.gate), None)
        ctx = {**base, "phase": phase, "gate": _result(result, plan, dept)}
        if isinstance(gate, ApprovalGate):
            done = set(approved_by.get(gate.name, ()))
            waiting = [a for a in gate.approvers if a not in done]
            approval_ctx = {
                **ctx,
                "approvers": [_person(plan, a) for a in gate.approvers],
                "waiting_for": [_person(plan, a) for a in waiting],
                "required": gate.required,
                "approved": sorted(done),
            }
            # One request per visit to the phase; reminders and the escalation to the
            # sponsor once escalate_after has passed, at most once per check.
            for approver in waiting:
                messages.append(
                    Message(
                        "approval_requested",
                        approver,
                        f"{dept.name}:{gate.name}:{visit}",
                        dept.name,
                        approval_ctx,
                    )
                )
            # Escalation counts from the first request, not from entering the phase: the
            # approvers get `escalate_after` to answer before the sponsor hears about it.
            asked = requested_at.get(gate.name)
            if asked is not None and now - asked >= gate.escalate_after:
                for approver in waiting:
                    messages.append(
                        Message(
                            "approval_reminder",
                            approver,
                            f"{dept.name}:{gate.name}:{check_key}",
                            dept.name,
                            approval_ctx,
                        )
                    )
                messages.append(
                    Message(
                        "approval_escalation",
                        sponsor_or_lead(plan, dept),
                        f"{dept.name}:{gate.name}:{check_key}",
                        dept.name,
                        approval_ctx,
                    )
                )
            continue
        if result.kind == "soak" and result.outcome is Outcome.pending:
            continue  # nobody can do anything about time
        owner = owner_or_lead(plan, dept, gate.owner if gate else "lead")
        messages.append(
            Message(
                "gate_held",
                owner,
                _reminder_slot(plan, dept.name, phase, result, phase_entered_at, now),
                dept.name,
                ctx,
            )
        )
    return messages


def _window(plan: Plan, entered: datetime, now: datetime) -> int:
    return max(int((now - entered) / plan.program.remind_every), 0)


def _reminder_slot(
    plan: Plan, department: str, phase: str, result: GateResult, entered: datetime, now: datetime
) -> str:
    """The dedupe key of a held gate's reminder: one per `remind_every` window of the
    visit and result, so a daily check does not nag daily, a re-run sends nothing twice,
    and a change of result (failing to pending, or back) is told at once."""
    window = _window(plan, entered, now)
    visit = entered.isoformat()
    return f"{department}:{phase}:{result.gate}:{visit}:{result.outcome}:{window}"


def _champion_state(
    plan: Plan,
    dept: Department,
    decision: Decision,
    base: dict[str, Any],
    *,
    phase_entered_at: datetime,
    now: datetime,
) -> list[Message]:
    """Champions hear where their department stands once per `remind_every` window of
    the visit (weekly by default): the item of their grouped message, never daily."""
    if decision.verdict is None or not dept.champions:
        return []
    phase = decision.before.phase
    holding = [r for r in decision.verdict.holding if r.gate not in decision.verdict.advisory]
    context = {
        **base,
        "phase": phase,
        "phase_title": plan.phase(phase).title or phase,
        "operating": phase == plan.phases[-1].name,
        "holding": [_result(r, plan, dept) for r in holding],
        "passing": sum(1 for r in decision.verdict.results if r.outcome is Outcome.passed),
        "gates": len(decision.verdict.results),
    }
    window = _window(plan, phase_entered_at, now)
    about = f"{dept.name}:{phase}:{phase_entered_at.isoformat()}:{window}"
    return [Message("department_state", c, about, dept.name, context) for c in dept.champions]


def _stuck(
    plan: Plan,
    dept: Department,
    decision: Decision,
    base: dict[str, Any],
    *,
    phase_entered_at: datetime,
    stuck: Mapping[str, int],
) -> list[Message]:
    """The sponsor and the lead hear once per visit that a gate is stuck: the owner's
    reminders have not moved it, so someone with authority must."""
    assert decision.verdict is not None
    visit = phase_entered_at.isoformat()
    messages = []
    for result in decision.verdict.holding:
        if result.gate not in stuck:
            continue
        gate = next((g for g in plan.gates if g.name == result.gate), None)
        owner = owner_or_lead(plan, dept, gate.owner if gate else "lead")
        context = {
            **base,
            "phase": decision.before.phase,
            "gate": _result(result, plan, dept),
            "checks": stuck[result.gate],
            "owner": _person(plan, owner),
            "lead": _person(plan, plan.program.lead),
        }
        about = f"{dept.name}:{result.gate}:{visit}:stuck"
        for person in _unique([sponsor_or_lead(plan, dept), plan.program.lead]):
            messages.append(Message("gate_stuck", person, about, dept.name, context))
    return messages


# --------------------------------------------------------------------------- entry actions


def entry_work(
    plan: Plan,
    dept: Department,
    phase: str,
    *,
    now: datetime,
    members: Sequence[Person],
    previous_phase: str | None,
    story: StoryFacts | None = None,
) -> EntryWork:
    """Records and messages for entering `phase`. `members` are the department's people;
    `story` the KPI results and lessons its success story tells, if the phase shares one."""
    actions = plan.phase(phase).entry_actions
    base = {
        "program": _program(plan),
        "department": _department(dept),
        "as_of": now.isoformat(),
        "phase": phase,
        "phase_title": plan.phase(phase).title or phase,
    }
    onboard: tuple[str, ...] = ()
    assignments: list[Assignment] = []
    messages: list[Message] = []
    if EntryAction.onboard_champions in actions:
        onboard = tuple(dept.champions)
        messages += _welcome_kits(plan, dept, base)
    if EntryAction.deliver_training in actions:
        new, msgs = _training(plan, dept, base, members=members, now=now, phase=phase)
        assignments += new
        messages += msgs
    # A department without a room of its own is announced in the program's.
    announce_in = dept.chat_channel or plan.program.chat_channel
    if EntryAction.announce in actions and announce_in:
        messages.append(
            Message(
                "department_advanced",
                f"channel:{announce_in}",
                f"{dept.name}:{phase}",
                dept.name,
                {
                    **base,
                    "from_phase": previous_phase or "",
                    "to_phase": phase,
                    "to_phase_title": base["phase_title"],
                    "gates": [],
                },
            )
        )
    if EntryAction.share_success_story in actions:
        messages += _success_stories(plan, dept, base, phase=phase, facts=story or StoryFacts())
    return EntryWork(onboard=onboard, assignments=tuple(assignments), messages=tuple(messages))


def _welcome_kits(plan: Plan, dept: Department, base: dict[str, Any]) -> list[Message]:
    # The champion network: every champion of the program, so peers can find each other.
    network = [
        {**_person(plan, c), "department": d.title} for d in plan.departments for c in d.champions
    ]
    context = {
        **base,
        "talking_points": list(plan.program.talking_points),
        "resources": [r.model_dump(mode="json") for r in plan.program.resources],
        "use_cases": [u.model_dump(mode="json") for u in dept.use_cases],
        "sponsor": _person(plan, sponsor_or_lead(plan, dept)),
        "lead": _person(plan, plan.program.lead),
    }
    return [
        Message(
            "champion_welcome",
            champion,
            f"{dept.name}:{champion}",
            dept.name,
            {
                **context,
                "champion": _person(plan, champion),
                "peers": [p for p in network if p["id"] != champion],
            },
        )
        for champion in dept.champions
    ]


def _training(
    plan: Plan,
    dept: Department,
    base: dict[str, Any],
    *,
    members: Sequence[Person],
    now: datetime,
    phase: str,
    segments_due: Iterable[str] | None = None,
) -> tuple[list[Assignment], list[Message]]:
    """Power users get the full course, casual users the quick-start guide, everyone the
    self-service library. Each phase that delivers training assigns what is not yet
    assigned (the store ignores repeats), so the scaling phase reaches casual users.
    People of no trainee segment (`none`) get nothing."""
    if segments_due is None:
        segments_due = plan.phase(phase).training_segments
    assignments: list[Assignment] = []
    messages: list[Message] = []
    library = [_module(m, None) for m in dept.training.self_service]
    segments = {str(s) for s in segments_due}
    roles = role_names(plan) if any(p.segment is None for p in members) else {}
    for person in members:
        segment = effective_segment(
            declared=person.segment.value if person.segment else None,
            roster=None,
            roles=roles.get(person.id, ()),
        )
        if segment not in segments or not is_trainee(segment):
            continue
        modules = dept.training.power if segment == "power" else dept.training.casual
        due = [(m, now + m.due_after) for m in modules]
        assignments += [Assignment(person.id, segment, m.id, d) for m, d in due]
        if not due and not library:
            continue
        messages.append(
            Message(
                "training_assigned",
                person.id,
                f"{dept.name}:{phase}:{person.id}",
                dept.name,
                {
                    **base,
                    "person": _person(plan, person.id),
                    "segment": segment,
                    "modules": [_module(m, d) for m, d in due],
                    "library": library,
                },
            )
        )
    return assignments, messages


def delivered_segments(plan: Plan, phase: str) -> set[str]:
    """The segments whose training a department in `phase` has been given: those of every
    phase up to this one whose entry actions deliver training."""
    found: set[str] = set()
    for spec in plan.phases:
        if EntryAction.deliver_training in spec.entry_actions:
            found.update(str(s) for s in spec.training_segments)
        if spec.name == phase:
            return found
    return set()


def newcomer_training(
    plan: Plan, dept: Department, phase: str, *, members: Sequence[Person], now: datetime
) -> tuple[list[Assignment], list[Message]]:
    """Training for people who joined the department's roster after it was delivered
    (`members`: those with nothing assigned yet): what the phases so far gave everyone."""
    base = {
        "program": _program(plan),
        "department": _department(dept),
        "as_of": now.isoformat(),
        "phase": phase,
        "phase_title": plan.phase(phase).title or phase,
    }
    segments = delivered_segments(plan, phase)
    if not segments:
        return [], []
    return _training(plan, dept, base, members=members, now=now, phase=phase, segments_due=segments)


def _success_stories(
    plan: Plan, dept: Department, base: dict[str, Any], *, phase: str, facts: StoryFacts
) -> list[Message]:
    # Once per visit: `as_of` is the moment the department entered the phase, so a re-run
    # sends nothing twice while a department that comes back tells its story anew.
    context = story_context(plan, dept, base, facts, person=_person)
    about = f"{dept.name}:{phase}:{base['as_of']}"
    return [
        Message("success_story", person, about, dept.name, context)
        for person in story_recipients(plan, dept)
    ]


def training_reminders(
    plan: Plan,
    dept: Department,
    overdue: Sequence[tuple[str, str, datetime]],
    *,
    check_key: str,
    now: datetime,
) -> list[Message]:
    """One reminder per person per check for their overdue (module, due) assignments."""
    by_person: dict[str, list[tuple[TrainingModule, datetime]]] = {}
    modules = {m.id: m for m in (*dept.training.power, *dept.training.casual)}
    for person, module_id, due_at in overdue:
        if module_id in modules:
            by_person.setdefault(person, []).append((modules[module_id], due_at))
    base = {"program": _program(plan), "department": _department(dept), "as_of": now.isoformat()}
    return [
        Message(
            "training_reminder",
            person,
            f"{dept.name}:{person}:{check_key}",
            dept.name,
            {
                **base,
                "person": _person(plan, person),
                "modules": [_module(m, due) for m, due in items],
                "days_overdue": max(0, (now - min(due for _, due in items)).days),
            },
        )
        for person, items in by_person.items()
    ]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


__all__ = [
    "Assignment",
    "EntryWork",
    "Message",
    "delivered_segments",
    "entry_work",
    "for_decision",
    "newcomer_training",
    "training_reminders",
]
