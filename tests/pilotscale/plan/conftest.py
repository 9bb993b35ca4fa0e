"""A small plan that passes every check; tests break one thing at a time.

VALID_PLAN passes the schema and the cross-checks but lacks some essentials (Legal has
no use case, the last phase no monitoring gate), so tests of those checks keep their
lines; COMPLETE_PLAN is the same plan with every essential, for `validate` and `apply`.
"""

from __future__ import annotations

import pytest

VALID_PLAN = """\
version: 1
program:
  name: helpdesk-bot
  title: Helpdesk bot
  sponsor: ines.sponsor
  lead: leo.lead
  timezone: Europe/Madrid
  budget:
    pilot_budget: 10000
    approved_scale_budget: 50000
    cost_per_user_month: 5
  kpis:
    - {name: tickets_avoided, title: Tickets avoided, unit: tickets}
  email_channel: email
  chat_channel: rollout-chat
channels:
  - {name: email, kind: email, url: "env:PILOTSCALE_SMTP_URL"}
  - {name: rollout-chat, kind: chat, url: "secret:rollout-chat-webhook"}
metrics:
  - {name: weekly_active_rate, unit: fraction}
phases:
  - name: planned
  - name: piloting
    entry_actions: [onboard_champions, deliver_training]
    exit_gates: [champions-ready, weekly-active, go-ahead]
    min_soak: 2w
  - name: operating
gates:
  - name: champions-ready
    kind: champion_coverage
    title: Champions onboarded
    owner: sponsor
  - name: weekly-active
    kind: metric
    title: People use it every week
    owner: support.adoption
    metric: weekly_active_rate
    threshold: 0.5
    min_samples: 3
  - name: go-ahead
    kind: approval
    title: Sponsor approves
    owner: leo.lead
    approvers: [ines.sponsor, leo.lead]
    required: 1
rollout:
  max_active: 1
  default_reaches: operating
departments:
  - name: finance
    title: Finance
    headcount: 40
    wave: 0
    sponsor: ines.sponsor
    champions: [fran.champion]
    use_cases:
      - name: invoice-questions
        title: Answering invoice questions
        kpis:
          - {kpi: tickets_avoided, target: 100}
    training:
      power:
        - {id: full-course, title: Full course, minutes: 60}
      casual:
        - {id: quick-start, title: Quick start}
    support: {technical: it.desk, adoption: it.desk}
  - name: legal
    title: Legal
    headcount: 12
    wave: 1
    sponsor: ines.sponsor
    champions: [lola.champion]
    chat_channel: rollout-chat
people:
  - {id: ines.sponsor, name: Ines Sponsor, email: ines@example.com, roles: [sponsor, approver]}
  - {id: leo.lead, name: Leo Lead, email: leo@example.com, roles: [lead, approver]}
  - {id: it.desk, name: IT Desk, email: it@example.com, roles: [support_owner]}
  - {id: fran.champion, name: Fran, email: fran@example.com, department: finance, segment: power,
     roles: [champion]}
  - {id: lola.champion, name: Lola, email: lola@example.com, department: legal, roles: [champion]}
"""


def _complete(text: str) -> str:
    for old, new in (
        ("  - name: operating\n", "  - {name: operating, exit_gates: [weekly-active]}\n"),
        (
            "    support: {technical: it.desk, adoption: it.desk}\n",
            "    support: {technical: it.desk, adoption: it.desk, content: it.desk,\n"
            "              governance: it.desk}\n",
        ),
        (
            "    chat_channel: rollout-chat\n",
            "    chat_channel: rollout-chat\n"
            "    use_cases:\n"
            "      - {name: contracts, title: Contract review,\n"
            "         kpis: [{kpi: tickets_avoided, target: 5}]}\n"
            "    support: {technical: it.desk, adoption: it.desk, content: it.desk,\n"
            "              governance: it.desk}\n",
        ),
    ):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


COMPLETE_PLAN = _complete(VALID_PLAN)


@pytest.fixture
def complete_plan_text() -> str:
    """VALID_PLAN with every essential: what validate and apply accept."""
    return COMPLETE_PLAN


@pytest.fixture
def plan_text() -> str:
    """YAML text of a minimal but complete valid plan (3 phases, 2 departments)."""
    return VALID_PLAN
