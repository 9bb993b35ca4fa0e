"""A plan with channels and people of every preference, and a store that holds it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.messages import Message
from pilotscale.engine.enqueue import enqueue
from pilotscale.models import Department, Notification, Program
from pilotscale.plan.loader import load_plan_text
from pilotscale.plan.schema import Plan
from pilotscale.store.apply import apply_plan

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SMTP_ENV = "PS_TEST_SMTP_URL"
CHAT_ENV = "PS_TEST_CHAT_URL"
DEPT_CHAT_ENV = "PS_TEST_FINANCE_CHAT_URL"
HOSTILE_NAME = "<script>alert(1)</script>"

PLAN = f"""\
version: 1
program:
  name: helpdesk-bot
  title: Helpdesk bot
  sponsor: ines.sponsor
  lead: leo.lead
  budget: {{pilot_budget: 10000, approved_scale_budget: 50000, cost_per_user_month: 5}}
  kpis:
    - {{name: tickets_avoided, title: Tickets avoided, unit: tickets, target: 500}}
  email_channel: email
  chat_channel: team-chat
channels:
  - {{name: email, kind: email, url: "env:{SMTP_ENV}"}}
  - {{name: team-chat, kind: chat, url: "env:{CHAT_ENV}"}}
  - {{name: finance-chat, kind: chat, url: "env:{DEPT_CHAT_ENV}"}}
phases:
  - name: planned
  - name: piloting
    exit_gates: [weekly-active, go-ahead]
  - name: operating
gates:
  - name: weekly-active
    kind: metric
    title: People use it every week
    owner: support.adoption
    metric: weekly_active_rate
    threshold: 0.5
  - name: go-ahead
    kind: approval
    title: Sponsor approves
    owner: leo.lead
    approvers: [ines.sponsor, leo.lead]
metrics:
  - {{name: weekly_active_rate}}
rollout:
  max_active: 1
  default_reaches: operating
departments:
  - name: finance
    title: Finance
    headcount: 120
    wave: 0
    sponsor: ines.sponsor
    champions: [fran.champion, lola.champion]
    chat_channel: finance-chat
    support: {{technical: it.desk, adoption: it.desk, content: leo.lead}}
people:
  - {{id: ines.sponsor, name: Ines Sponsor, email: ines@example.com, roles: [sponsor, approver]}}
  - {{id: leo.lead, name: Leo Lead, email: leo@example.com, roles: [lead, approver]}}
  - {{id: it.desk, name: IT Desk, email: it@example.com, roles: [support_owner]}}
  - {{id: fran.champion, name: "{HOSTILE_NAME}", email: fran@example.com, chat: "@fran",
     department: finance, notify: both, roles: [champion]}}
  - {{id: lola.champion, name: "@channel", email: lola@example.com, chat: "@lola",
     department: finance, notify: chat, roles: [champion]}}
  - {{id: dana.digest, name: Dana Digest, email: dana@example.com, department: finance,
     notify: digest, roles: [executive]}}
"""


def plan() -> Plan:
    return load_plan_text(PLAN, "plan.yaml").plan


def applied(engine: Engine, text: str = PLAN) -> tuple[int, dict[str, int]]:
    """Apply the plan; returns the program id and department ids by name."""
    loaded = load_plan_text(text, "plan.yaml")
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded, now=NOW, actor="test")
    with Session(engine) as session:
        program = session.exec(select(Program)).one()
        departments = session.exec(
            select(Department).where(col(Department.program_id) == program.id)
        )
        return int(program.id or 0), {d.name: int(d.id or 0) for d in departments}


def gate_held(recipient: str, about: str = "finance:piloting:weekly-active:2026-11-23") -> Message:
    """A gate_held intent shaped like pilotscale.core.messages builds it."""
    owner = {"id": "it.desk", "name": "IT Desk", "email": "it@example.com", "chat": None}
    context: dict[str, Any] = {
        "program": {"name": "helpdesk-bot", "title": "Helpdesk bot"},
        "department": {"name": "finance", "title": "Finance", "headcount": 120, "wave": 0},
        "as_of": NOW.isoformat(),
        "phase": "piloting",
        "gate": {
            "gate": "weekly-active",
            "title": "People use it every week",
            "kind": "metric",
            "outcome": "fail",
            "observed": "0.31",
            "threshold": ">= 0.5",
            "reason": f"only 31% used it; ask {HOSTILE_NAME} and @channel",
            "how_to_fix": "run a show-and-tell *now* [here](javascript:alert(1))",
            "owner": owner,
        },
    }
    return Message("gate_held", recipient, about, "finance", context)


def queue(
    engine: Engine,
    messages: Sequence[Message],
    *,
    now: datetime = NOW,
) -> int:
    program_id, departments = applied_ids(engine)
    with Session(engine) as session, session.begin():
        return enqueue(
            session=session,
            plan=plan(),
            program_id=program_id,
            department_ids=departments,
            messages=messages,
            now=now,
        )


def applied_ids(engine: Engine) -> tuple[int, dict[str, int]]:
    with Session(engine) as session:
        program = session.exec(select(Program)).first()
        if program is None:
            return applied(engine)
        departments = session.exec(
            select(Department).where(col(Department.program_id) == program.id)
        )
        return int(program.id or 0), {d.name: int(d.id or 0) for d in departments}


def rows(engine: Engine) -> list[Notification]:
    with Session(engine) as session:
        return list(session.exec(select(Notification).order_by(col(Notification.dedupe_key))))


def context_of(row: Notification) -> dict[str, Any]:
    return dict(json.loads(row.context_json))
