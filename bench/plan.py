"""The benchmark's rollout plan: N departments of 100 people, 6 gates per phase.

Each department gets a phase (spread over the plan so that every phase is in flight)
and a profile that decides what its facts look like, so that a check advances some
departments, holds others (failing or pending gates) and blocks a few:

- ready: every gate of its phase passes (advance, or monitor when operating);
- lagging: its metrics, training and champions fall short (hold, failing);
- waiting: approvals and attestations are missing, the soak is not over (hold, pending);
- repeat: lagging for the third check in a row (block);
- stale: no observation inside any metric window (hold, pending).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

PROGRAM = "bench-program"
LEAD, DEPUTY, EXEC = "lead", "deputy", "exec"
SUPPORT = {
    "technical": "helpdesk",
    "adoption": "coe",
    "content": "knowledge",
    "governance": "compliance",
}
SMTP_ENV = "BENCH_SMTP_URL"
PEOPLE_PER_DEPARTMENT = 100
CHAMPIONS = 5
POWER_USERS = 20  # the 5 champions and 15 more; the other 80 are casual users
PHASES = ("planned", "preparing", "piloting", "scaling", "operating")
# Where departments are, in parts per 100 (planned ones are not evaluated by a check).
PHASE_SHARE = {"planned": 5, "preparing": 25, "piloting": 30, "scaling": 22, "operating": 18}
PROFILE_SHARE = {"ready": 35, "lagging": 25, "waiting": 20, "repeat": 10, "stale": 10}
FAILURE_LIMIT = 3


@dataclass(frozen=True)
class DepartmentCase:
    index: int
    name: str
    phase: str
    profile: str
    paused: bool


def department_name(index: int) -> str:
    return f"d{index:04d}"


def person_id(department: str, number: int) -> str:
    return f"{department}-p{number:02d}"


def champions(department: str) -> list[str]:
    return [person_id(department, n) for n in range(1, CHAMPIONS + 1)]


def segment_of(number: int) -> str:
    return "power" if 1 <= number <= POWER_USERS else "casual"


def cases(departments: int, *, seed: int) -> list[DepartmentCase]:
    """Every department's phase and profile, the same for the same seed."""
    rng = random.Random(seed)
    phases = _spread(PHASE_SHARE, departments, rng)
    profiles = _spread(PROFILE_SHARE, departments, rng)
    out = []
    for i in range(departments):
        name = department_name(i + 1)
        # A few started departments are paused: a check must skip them.
        paused = phases[i] != "planned" and rng.random() < 0.02
        out.append(DepartmentCase(i + 1, name, phases[i], profiles[i], paused))
    return out


def _spread(shares: dict[str, int], count: int, rng: random.Random) -> list[str]:
    total = sum(shares.values())
    values = [name for name, share in shares.items() for _ in range(round(count * share / total))]
    values = (values + list(shares) * count)[:count]
    rng.shuffle(values)
    return values


def plan_dict(departments: list[DepartmentCase]) -> dict[str, Any]:
    people: list[dict[str, Any]] = [
        _person(LEAD, roles=["lead", "approver"]),
        _person(DEPUTY, roles=["lead", "approver"]),
        _person(EXEC, roles=["sponsor", "approver", "executive"]),
        *(_person(p, roles=["support_owner"]) for p in SUPPORT.values()),
    ]
    for case in departments:
        for n in range(PEOPLE_PER_DEPARTMENT):
            roles = ["sponsor"] if n == 0 else ["champion"] if n <= CHAMPIONS else []
            people.append(
                _person(
                    person_id(case.name, n),
                    department=case.name,
                    segment=segment_of(n),
                    roles=roles,
                )
            )
    return {
        "version": 1,
        "program": {
            "name": PROGRAM,
            "title": "Benchmark program",
            "sponsor": EXEC,
            "lead": LEAD,
            "timezone": "UTC",
            "failure_limit": FAILURE_LIMIT,
            "budget": {
                "pilot_budget": 36000,
                "approved_scale_budget": 4200000,
                "cost_per_user_month": 6,
            },
            "talking_points": ["It drafts, you decide."],
            "resources": [{"title": "Playbook", "url": "https://example.com/playbook"}],
            "email_channel": "email",
        },
        "channels": [{"name": "email", "kind": "email", "url": f"env:{SMTP_ENV}"}],
        "metrics": [
            {"name": "weekly_active_rate", "unit": "fraction"},
            {"name": "answer_rating", "unit": "points"},
            {"name": "time_saved_hours", "unit": "hours"},
            {"name": "tickets_avoided", "unit": "tickets"},
        ],
        "phases": PHASE_SPECS,
        "gates": GATES,
        "rollout": {"max_active": max(len(departments), 1)},
        "departments": [_department(case) for case in departments],
        "people": people,
    }


def _person(pid: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "name": pid.replace("-", " ").title(), "email": f"{pid}@bench.example"} | {
        k: v for k, v in extra.items() if v
    }


def _department(case: DepartmentCase) -> dict[str, Any]:
    support = dict(SUPPORT)
    if case.profile in ("lagging", "repeat"):
        del support["content"]  # a support model with a gap: support_coverage fails
    return {
        "name": case.name,
        "title": f"Department {case.index}",
        "headcount": PEOPLE_PER_DEPARTMENT,
        "wave": 1,
        "sponsor": person_id(case.name, 0),
        "champions": champions(case.name),
        "use_cases": [{"name": "drafting", "title": "Drafting replies"}],
        "training": {
            "power": [{"id": "full-course", "title": "Full course", "due_after": "2w"}],
            "casual": [{"id": "quick-start", "title": "Quick-start guide", "due_after": "1w"}],
            "self_service": [{"id": "library", "title": "Example library"}],
        },
        "support": support,
        "initial_phase": case.phase,
    }


PHASE_SPECS: list[dict[str, Any]] = [
    {"name": "planned"},
    {
        "name": "preparing",
        "entry_actions": ["onboard_champions", "announce"],
        "exit_gates": [
            "champion-network",
            "use-cases-developed",
            "support-model",
            "budget-at-scale",
            "governed-data",
            "sponsor-commitment",
        ],
    },
    {
        "name": "piloting",
        "entry_actions": ["deliver_training", "announce"],
        "training_segments": ["power"],
        "exit_gates": [
            "power-users-trained",
            "weekly-active-pilot",
            "answer-quality",
            "guardrails",
            "pilot-soak",
            "pilot-go-ahead",
        ],
    },
    {
        "name": "scaling",
        # Not share_success_story: it tells every champion of every other department, 5 x
        # (N - 1) messages per department entering scaling, a fan-out that grows with N.
        # The benchmark reports its cost from the measured enqueue rate instead.
        "entry_actions": ["deliver_training", "announce"],
        "training_segments": ["casual"],
        "exit_gates": [
            "casual-users-trained",
            "weekly-active-scale",
            "time-saved",
            "production-monitoring",
            "scale-soak",
            "executive-go-ahead",
        ],
    },
    {
        "name": "operating",
        "exit_gates": [
            "weekly-active-sustained",
            "answer-quality-sustained",
            "latest-rating",
            "production-monitoring",
            "support-model",
            "champion-network",
        ],
    },
]


def _gate(name: str, kind: str, owner: str, **spec: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "title": name.replace("-", " "), "owner": owner, **spec}


def _metric(name: str, metric: str, aggregate: str, window: str, threshold: float, samples: int):
    return _gate(
        name,
        "metric",
        "support.adoption",
        metric=metric,
        aggregate=aggregate,
        window=window,
        threshold=threshold,
        min_samples=samples,
        how_to_fix="run a champion office hour",
    )


GATES: list[dict[str, Any]] = [
    _gate(
        "champion-network",
        "champion_coverage",
        "sponsor",
        min_champions=2,
        people_per_champion=20,
        require="acknowledged",
    ),
    _gate("use-cases-developed", "attestation", "sponsor", checklist="Use cases have KPIs"),
    _gate("support-model", "support_coverage", "lead"),
    _gate("budget-at-scale", "attestation", "lead", checklist="Inside budget", expires_after="13w"),
    _gate("governed-data", "attestation", "support.content", checklist="Sources governed"),
    _gate("sponsor-commitment", "approval", "lead", approvers=[EXEC, LEAD], required=1),
    _gate(
        "power-users-trained", "training", "support.adoption", segment="power", min_completion=0.8
    ),
    _metric("weekly-active-pilot", "weekly_active_rate", "avg", "2w", 0.5, 10),
    _metric("answer-quality", "answer_rating", "avg", "2w", 4.0, 10),
    _gate("guardrails", "attestation", "support.governance", checklist="Access rules reviewed"),
    _gate("pilot-soak", "soak", "lead", duration="2w"),
    _gate("pilot-go-ahead", "approval", "lead", approvers=[LEAD, EXEC], required=1),
    _gate(
        "casual-users-trained", "training", "support.adoption", segment="casual", min_completion=0.7
    ),
    _metric("weekly-active-scale", "weekly_active_rate", "avg", "3w", 0.6, 15),
    _metric("time-saved", "time_saved_hours", "sum", "4w", 500.0, 20),
    _gate(
        "production-monitoring",
        "attestation",
        "support.technical",
        checklist="Monitoring in place",
        expires_after="4w",
    ),
    _gate("scale-soak", "soak", "lead", duration="3w"),
    _gate("executive-go-ahead", "approval", "sponsor", approvers=[EXEC, LEAD, DEPUTY], required=2),
    _metric("weekly-active-sustained", "weekly_active_rate", "avg", "4w", 0.55, 20),
    _metric("answer-quality-sustained", "answer_rating", "avg", "4w", 3.8, 20),
    _metric("latest-rating", "answer_rating", "last", "1w", 3.0, 1),
]
