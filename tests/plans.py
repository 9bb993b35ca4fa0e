"""Rollout plans built in code, of any size: for tests and for the benchmark (bench/).

`plan_dict(n)` returns a plain dict (change any part of it before loading), `loaded(data)`
turns it into the `LoadedPlan` that `apply_plan` takes, through the same YAML loader and
cross-checks a plan file goes through.

Every department `dNNN` has a sponsor, two champions and a power user (segment power),
and two casual users; program-wide there are a lead, a deputy lead, the executive
sponsor, the four support owners and an outsider with no role at all.
The phases exercise every kind of gate:

    planned → preparing → piloting → scaling → operating

- preparing: entry onboard_champions + announce; gates champions (champion coverage,
  acknowledged) and use-cases (attestation, owner: the department's sponsor);
- piloting: entry deliver_training to power users; gates weekly-active (metric avg over
  1w, >= 0.5, at least 3 samples), power-trained (training, power, 50%), guardrails
  (attestation, owner: support.governance), go-ahead (approval by lead or exec, 1
  required, escalates after 3d) and a 1w min_soak;
- scaling: entry deliver_training to casual users + share_success_story; gate
  casual-trained (training, casual, 50%);
- operating: monitoring gate weekly-active.
"""

from __future__ import annotations

import json
from typing import Any

from pilotscale.plan.loader import LoadedPlan, load_plan_text

PROGRAM = "test-program"
LEAD = "lead"
DEPUTY = "deputy"
EXEC = "exec"
OUTSIDER = "outsider"
SUPPORT = {
    "technical": "helpdesk",
    "adoption": "coe",
    "content": "knowledge",
    "governance": "compliance",
}


def department_name(index: int) -> str:
    return f"d{index:03d}"


def members(department: str) -> dict[str, str]:
    """Person id -> segment of a generated department's people."""
    return {
        f"{department}-sponsor": "casual",
        f"{department}-champ1": "power",
        f"{department}-champ2": "power",
        f"{department}-power": "power",
        f"{department}-casual1": "casual",
        f"{department}-casual2": "casual",
    }


def _person(person_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": person_id,
        "name": person_id.replace("-", " ").title(),
        "email": f"{person_id}@example.com",
        **extra,
    }


def _department(index: int, wave: int) -> dict[str, Any]:
    name = department_name(index)
    return {
        "name": name,
        "title": f"Department {index}",
        "headcount": 6,
        "wave": wave,
        "sponsor": f"{name}-sponsor",
        "champions": [f"{name}-champ1", f"{name}-champ2"],
        "use_cases": [
            {
                "name": "drafting",
                "title": "Drafting documents",
                "kpis": [{"kpi": "weekly_active_rate", "target": 0.6}],
            }
        ],
        "training": {
            "power": [{"id": "full-course", "title": "Full course", "due_after": "2w"}],
            "casual": [{"id": "quick-start", "title": "Quick-start guide", "due_after": "1w"}],
            "self_service": [{"id": "library", "title": "Example library"}],
        },
        "support": dict(SUPPORT),
    }


def plan_dict(
    departments: int = 3,
    *,
    per_wave: int | None = None,
    max_active: int | None = None,
    failure_limit: int = 3,
    default_reaches: str | None = None,
) -> dict[str, Any]:
    """A valid plan with `departments` departments (d001, d002, ...).

    All departments are in wave 1 unless `per_wave` is given (then d001..dN are waves
    1, 1, ..., 2, ...). `max_active` defaults to the number of departments, so nothing
    waits for capacity unless a test asks for it.
    """
    people = [
        _person(LEAD, roles=["lead", "approver"], segment="power"),
        _person(DEPUTY, roles=["lead"]),
        _person(EXEC, roles=["sponsor", "approver", "executive"]),
        _person(OUTSIDER),
        *(_person(p, roles=["support_owner"]) for p in SUPPORT.values()),
    ]
    depts = []
    for i in range(1, departments + 1):
        wave = 1 + (i - 1) // per_wave if per_wave else 1
        depts.append(_department(i, wave))
        name = department_name(i)
        for person_id, segment in members(name).items():
            roles = ["sponsor"] if person_id.endswith("-sponsor") else []
            if "-champ" in person_id:
                roles = ["champion"]
            people.append(_person(person_id, department=name, segment=segment, roles=roles))
    return {
        "version": 1,
        "program": {
            "name": PROGRAM,
            "title": "Test program",
            "sponsor": EXEC,
            "lead": LEAD,
            "timezone": "UTC",
            "failure_limit": failure_limit,
            "budget": {
                "pilot_budget": 10000,
                "approved_scale_budget": 100000,
                "cost_per_user_month": 5,
            },
            "talking_points": ["It drafts, you decide."],
            "resources": [{"title": "Playbook", "url": "https://example.com/playbook"}],
        },
        "metrics": [{"name": "weekly_active_rate", "title": "Weekly active rate"}],
        "phases": [
            {"name": "planned"},
            {
                "name": "preparing",
                "entry_actions": ["onboard_champions", "announce"],
                "exit_gates": ["champions", "use-cases"],
            },
            {
                "name": "piloting",
                "entry_actions": ["deliver_training", "announce"],
                "training_segments": ["power"],
                "exit_gates": ["weekly-active", "power-trained", "guardrails", "go-ahead"],
                "min_soak": "1w",
            },
            {
                "name": "scaling",
                "entry_actions": ["deliver_training", "share_success_story"],
                "training_segments": ["casual"],
                "exit_gates": ["casual-trained"],
            },
            {"name": "operating", "exit_gates": ["weekly-active"]},
        ],
        "gates": [
            {
                "name": "champions",
                "kind": "champion_coverage",
                "title": "Champions acknowledged their welcome kit",
                "owner": "sponsor",
                "min_champions": 2,
                "require": "acknowledged",
            },
            {
                "name": "use-cases",
                "kind": "attestation",
                "title": "Use cases developed",
                "owner": "sponsor",
                "checklist": "Our use cases each have a KPI",
            },
            {
                "name": "weekly-active",
                "kind": "metric",
                "title": "People use it every week",
                "owner": "support.adoption",
                "metric": "weekly_active_rate",
                "aggregate": "avg",
                "window": "1w",
                "op": ">=",
                "threshold": 0.5,
                "min_samples": 3,
                "how_to_fix": "run a champion office hour",
            },
            {
                "name": "power-trained",
                "kind": "training",
                "title": "Power users trained",
                "owner": "support.adoption",
                "segment": "power",
                "min_completion": 0.5,
            },
            {
                "name": "guardrails",
                "kind": "attestation",
                "title": "Guardrails in place",
                "owner": "support.governance",
                "checklist": "Access rules reviewed",
            },
            {
                "name": "go-ahead",
                "kind": "approval",
                "title": "Lead or executive approves",
                "owner": "lead",
                "approvers": [LEAD, EXEC],
                "required": 1,
                "escalate_after": "3d",
            },
            {
                "name": "casual-trained",
                "kind": "training",
                "title": "Casual users trained",
                "owner": "support.adoption",
                "segment": "casual",
                "min_completion": 0.5,
            },
        ],
        "rollout": {
            "max_active": max_active if max_active is not None else max(departments, 1),
            "default_reaches": default_reaches,
        },
        "departments": depts,
        "people": people,
    }


def loaded(data: dict[str, Any]) -> LoadedPlan:
    """The plan as the loader returns it (JSON is YAML, so the real loader reads it)."""
    return load_plan_text(json.dumps(data), "generated-plan.yaml")
