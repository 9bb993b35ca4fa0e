"""The templates render every message the pure core builds, from the example plan.

samples.py only mirrors these shapes; this test uses the real builders, so a key
renamed in pilotscale.core.messages (or a template using a key it never sets) fails
here rather than at send time.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from pilotscale.core.decisions import Action, Decision
from pilotscale.core.gates import GateResult, PhaseVerdict
from pilotscale.core.grouping import fold, split
from pilotscale.core.messages import Job, Message, entry_work, for_decision, training_reminders
from pilotscale.core.phases import DeptState
from pilotscale.core.replies import approval_rejected, barrier_reported, gate_waived
from pilotscale.core.states import Outcome, Status
from pilotscale.core.stories import KpiResult, Lesson, StoryFacts
from pilotscale.engine.message_links import LinkMaker, dispatch_context
from pilotscale.links import Signer
from pilotscale.notifications import alerts
from pilotscale.notifications import digest_messages as digest
from pilotscale.notifications.catalog import EVENTS
from pilotscale.notifications.render import Renderer
from pilotscale.notifications.routing import routes
from pilotscale.plan.loader import load_plan
from pilotscale.plan.schema import Plan
from tests.notifications.helpers import NOW

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme-ai-assistant.yaml"


def _plan() -> Plan:
    return load_plan(EXAMPLE).plan


def _result(plan: Plan, gate: str, outcome: Outcome) -> GateResult:
    kind = plan.gate(gate).kind
    return GateResult(gate, kind, outcome, 0.4, "0.4 (12 samples)", ">= 0.6", "too low; act")


def _every_message(plan: Plan) -> list[Message]:
    dept = plan.departments[1]
    phases = plan.phase_names()
    held_phase = next(
        p for p in plan.phases if any(plan.gate(g).kind == "approval" for g in p.exit_gates)
    )
    gates = held_phase.exit_gates
    holding = PhaseVerdict(Outcome.failed, tuple(_result(plan, g, Outcome.failed) for g in gates))
    pending = PhaseVerdict(Outcome.pending, (_result(plan, gates[0], Outcome.pending),))
    approval_gate = next(g for g in gates if plan.gate(g).kind == "approval")
    awaiting = PhaseVerdict(Outcome.pending, (_result(plan, approval_gate, Outcome.pending),))
    here = DeptState(held_phase.name, Status.active)
    nxt = DeptState(phases[phases.index(held_phase.name) + 1], Status.active)
    decisions = [
        Decision(dept.name, Action.hold, here, here, holding, 1, "held"),
        Decision(
            dept.name,
            Action.block,
            here,
            DeptState(here.phase, Status.blocked),
            holding,
            3,
            "3 failing checks",
        ),
        Decision(
            dept.name, Action.advance, here, nxt, PhaseVerdict(Outcome.passed, ()), 0, "all passed"
        ),
        Decision(
            dept.name,
            Action.advance,
            here,
            nxt,
            PhaseVerdict(
                Outcome.passed,
                (_result(plan, gates[0], Outcome.failed),),
                advisory=frozenset({gates[0]}),
            ),
            0,
            "all passed; an advisory gate fails",
        ),
        Decision(dept.name, Action.hold, here, here, pending, 0, "pending"),
        # Held by its approval alone: the sponsor's escalation is their only item.
        Decision(dept.name, Action.hold, here, here, awaiting, 0, "awaiting approval"),
        # The last phase's monitoring regressed: rolled back by the plan's on_regression.
        Decision(
            dept.name,
            Action.rollback,
            DeptState(phases[-1], Status.active),
            DeptState(held_phase.name, Status.rolled_back),
            holding,
            3,
            "monitoring regressed",
        ),
    ]
    messages: list[Message] = []
    # Each decision as its own check: its reminders folded per person as the engine does
    # (engine.grouped), so both the grouped message and the single items are rendered.
    for decision in decisions:
        single, items = split(
            for_decision(
                plan,
                decision,
                check_key="2026-11-23",
                phase_entered_at=NOW - timedelta(days=30),
                now=NOW,
                requested_at={g: NOW - timedelta(days=10) for g in gates},
                stuck={gates[0]: 3},
            )
        )
        messages += single + fold(items, check_key="2026-11-23")
    members = [p for p in plan.people if p.department == dept.name]
    # A success story with a result, one with none yet, and a lesson learned.
    case = next(u for u in dept.use_cases if u.kpis)
    results = (
        KpiResult(case.name, case.kpis[0].kpi, "Time saved", "hours", 120.0, 100.0, 0.0, as_of=NOW),
        *(KpiResult(case.name, t.kpi, t.kpi, "", None, t.target) for t in case.kpis[1:]),
    )
    story = StoryFacts(results, (Lesson("demo <with> real *work*", members[0].id, "piloting"),))
    for phase in phases:
        messages += entry_work(
            plan, dept, phase, now=NOW, members=members, previous_phase=None, story=story
        ).messages
    module = (dept.training.power or dept.training.casual)[0]
    overdue = [(members[0].id, module.id, NOW - timedelta(days=3))]
    messages += training_reminders(plan, dept, overdue, check_key="2026-11-23", now=NOW)
    line = digest.DepartmentLine(dept.name, dept.title, held_phase.name, held_by=("A gate",))
    messages += digest.weekly_digest(
        plan,
        week_start=date(2026, 11, 16),
        impact=digest.figures(plan, {"time_saved_hours": 1240.0}, {"time_saved_hours": 1000.0}),
        departments=[line],
        advanced=[("Sales", "Scaling")],
        stories=[digest.StoryLine(dept.name, phases[-2], NOW.date(), story)],
        now=NOW,
    )
    dead = alerts.DeadMessage("id-1", "gate_held", "x", "email", 6, "boom", NOW)
    messages.append(alerts.delivery_failure(plan, dead=[dead], now=NOW))
    approval = next(plan.gate(g) for g in gates if plan.gate(g).kind == "approval")
    messages += approval_rejected(
        plan,
        dept,
        phase=held_phase.name,
        gate=approval.name,
        approver=approval.approvers[0],
        comment="the works council was not consulted",
        now=NOW,
        entered_by=plan.program.lead,
        on_behalf_reason="said so by phone",
    )
    for area in ("content", ""):
        messages += barrier_reported(
            plan,
            dept,
            phase=held_phase.name,
            reported_by=members[0].id,
            area=area,
            text="it does not know our policies",
            now=NOW,
        )
    for entered_by in (None, plan.program.lead):
        messages += gate_waived(
            plan,
            dept,
            phase=held_phase.name,
            gate=gates[0],
            waived_by=plan.program.lead,
            until=NOW + timedelta(days=14),
            reason="the survey tool is down",
            now=NOW,
            entered_by=entered_by,
            on_behalf_reason="agreed at the steering meeting" if entered_by else "",
        )
    return messages


def test_the_example_plan_produces_every_event() -> None:
    assert {m.event for m in _every_message(_plan())} == set(EVENTS)


MAKER = LinkMaker(Signer("contract-test-key-0123456789"), "https://pilotscale.test")


@pytest.mark.parametrize("event", EVENTS)
def test_every_real_message_renders_in_every_medium(event: str) -> None:
    """As the dispatcher sends it: with the links `engine.message_links` makes, and with
    none (no web address or key configured)."""
    plan = _plan()
    renderer = Renderer()
    messages = [m for m in _every_message(plan) if m.event == event]
    assert messages
    for message in messages:
        for route in routes(plan, message) or routes(
            plan, Message(message.event, plan.program.lead, "x", None, {})
        ):
            stored = {**message.context, "visit": "2026-11-02T09:00:00+00:00"}
            stored["recipient"] = route.recipient
            job = Job("id", 1, event, message.recipient, route.channel, "s", stored, NOW, 1)
            for maker in (MAKER, None):
                context = {**stored, **dispatch_context(job, plan, maker)}
                email = renderer.email(event, context)
                chat = renderer.chat(event, context)
                assert email.subject
                assert email.html
                assert email.text.strip()
                assert chat
                for link in context["links"].values():
                    assert link in email.html
                    assert link in email.text
                    assert link in chat
