"""A small valid plan for the store tests, and ways to change it one thing at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from pilotscale.plan.loader import LoadedPlan, load_plan_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

PLAN = """\
version: 1
program:
  name: helpdesk-bot
  title: Helpdesk bot
  sponsor: ines.sponsor
  lead: leo.lead
  timezone: Europe/Madrid
  budget: {pilot_budget: 10000, approved_scale_budget: 50000, cost_per_user_month: 5}
  schedules: {readiness_check: "0 9 * * 1", weekly_digest: "0 8 * * 1"}
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
  - {name: weekly_active_rate}
rollout:
  max_active: 1
  default_reaches: operating
departments:
  - name: support
    title: Customer support (the pilot)
    headcount: 50
    wave: 0
    initial_phase: operating
    sponsor: ines.sponsor
    champions: [sam.champion]
    support: {technical: it.desk, adoption: it.desk}
  - name: finance
    title: Finance
    headcount: 120
    wave: 1
    sponsor: ines.sponsor
    champions: [fran.champion]
    support: {technical: it.desk, adoption: it.desk, content: leo.lead}
  - name: legal
    title: Legal
    headcount: 12
    wave: 1
    sponsor: ines.sponsor
    champions: [lola.champion]
people:
  - {id: ines.sponsor, name: Ines Sponsor, email: ines@example.com, roles: [sponsor, approver]}
  - {id: leo.lead, name: Leo Lead, email: leo@example.com, roles: [lead, approver]}
  - {id: it.desk, name: IT Desk, email: it@example.com, roles: [support_owner]}
  - {id: sam.champion, name: Sam, email: sam@example.com, department: support, roles: [champion]}
  - {id: fran.champion, name: Fran, email: fran@example.com, department: finance, segment: power,
     roles: [champion]}
  - {id: lola.champion, name: Lola, email: lola@example.com, department: legal, roles: [champion]}
"""


def complete(text: str) -> str:
    """`text` with every essential (`pilotscale.plan.essentials`) that PLAN lacks: a use case
    with a KPI and the four support owners per department, a monitoring gate on the last
    phase. PLAN itself keeps its lines, which the store tests quote."""
    owners = "{technical: it.desk, adoption: it.desk, content: it.desk, governance: it.desk}"
    use_case = "    use_cases: [{name: answers, title: Answers, kpis: [{kpi: weekly_active_rate, "
    use_case += "target: 0.6}]}]\n"
    text = edit(
        text, "  - name: operating\n", "  - {name: operating, exit_gates: [weekly-active]}\n"
    )
    text = edit(text, "    support: {technical: it.desk, adoption: it.desk}\n", "")
    text = edit(
        text, "    support: {technical: it.desk, adoption: it.desk, content: leo.lead}\n", ""
    )
    for champion in ("sam", "fran", "lola"):
        line = f"    champions: [{champion}.champion]\n"
        text = edit(text, line, f"{line}{use_case}    support: {owners}\n")
    return text


def edit(text: str, old: str, new: str) -> str:
    """Replace `old` by `new`; `old` must occur exactly once, so an edit can't silently miss."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def without_department(text: str, name: str) -> str:
    """The plan without the department block called `name` (and its champion's link)."""
    lines = text.splitlines(keepends=True)
    start = lines.index(f"  - name: {name}\n")
    end = start + 1
    while end < len(lines) and lines[end].startswith("    "):
        end += 1
    return "".join(lines[:start] + lines[end:]).replace(f"department: {name}, ", "")


COMPLETE_PLAN = complete(PLAN)


def load(text: str = PLAN) -> LoadedPlan:
    return load_plan_text(text, "plan.yaml")


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table of the store."""
    with Session(engine) as session:
        return {
            table.name: session.exec(select(func.count()).select_from(table)).one()
            for table in SQLModel.metadata.sorted_tables
        }
