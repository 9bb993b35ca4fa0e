"""One sample context per event, shaped exactly like what the outbox stores.

`pilotscale templates check` renders every template with these, so a user template
that uses a variable the real messages do not have fails the check, not a send.
The shapes come from pilotscale.core.messages (plus `recipient` and `visit`, added by
the outbox, and the digest and alert builders here) and the keys every message gets
when it is sent (`links`, `operator`, `program_lead`: pilotscale.engine.message_links);
a test renders the templates with real messages built from a plan, so these samples
cannot drift unnoticed. Each sample has its links; `without_links` gives the same
message as it is sent when no web address or link key is configured, and
`templates check` renders both.
"""

from __future__ import annotations

from typing import Any

_PROGRAM = {"name": "acme-ai-assistant", "title": "ACME AI Assistant"}
_HR = {"name": "hr", "title": "Human Resources", "headcount": 180, "wave": 1}
_AS_OF = "2026-11-23T09:00:00+00:00"


def _person(pid: str, name: str, chat: str | None = None) -> dict[str, Any]:
    return {"id": pid, "name": name, "email": f"{pid}@acme.example", "chat": chat}


def _recipient(person: dict[str, Any]) -> dict[str, Any]:
    return {**person, "kind": "person"}


MARIA = _person("maria.lopez", "María López", "@maria")
ELENA = _person("elena.garcia", "Elena García")
JON = _person("jon.ruiz", "Jon Ruiz", "@jon")
ANA = _person("ana.diaz", "Ana Díaz", "@ana")
PAU = _person("pau.vidal", "Pau Vidal")

_SALES = {"name": "sales", "title": "Sales", "headcount": 120, "wave": 2}
_VISIT = "2026-11-02T09:00:00.000000+00:00"
_BASE = {"program": _PROGRAM, "department": _HR, "as_of": _AS_OF}
_ENTRY_BASE = {**_BASE, "phase": "piloting", "phase_title": "Departmental mini-pilot"}

_METRIC_RESULT = {
    "gate": "weekly-active-pilot",
    "title": "Power users use it every week",
    "kind": "metric",
    "outcome": "fail",
    "observed": "0.42 (avg of 14 samples, last 7d)",
    "threshold": ">= 0.6",
    "reason": "weekly active rate is 0.42, below 0.6; ask the champions to run a show-and-tell",
    "how_to_fix": "run a champion show-and-tell and share two worked examples",
    "owner": ANA,
    "advisory": False,
}
_APPROVAL_RESULT = {
    "gate": "executive-go-ahead",
    "title": "The sponsor approves scaling to everyone",
    "kind": "approval",
    "outcome": "pending",
    "observed": "0 of 1 approvals",
    "threshold": "1 approval",
    "reason": "waiting for an approval from Elena García or María López",
    "how_to_fix": "",
    "owner": MARIA,
    "advisory": False,
}
_MODULES = [
    {
        "id": "full-course",
        "title": "Assistant full course",
        "url": "https://learn.acme.example/ai/full",
        "minutes": 90,
        "due": "2026-12-07",
    },
    {
        "id": "prompting",
        "title": "Prompting clinic",
        "url": None,
        "minutes": 45,
        "due": "2026-12-07",
    },
]
_LIBRARY = [
    {
        "id": "faq",
        "title": "Ten questions people ask",
        "url": "https://learn.acme.example/ai/faq",
        "minutes": None,
        "due": None,
    }
]
_USE_CASES = [
    {
        "name": "policy-questions",
        "title": "Answering policy questions",
        "description": "Employees ask the assistant instead of opening an HR ticket.",
        "kpis": [{"kpi": "tickets_avoided", "target": 300.0, "baseline": 0.0}],
    }
]
# As a success story carries them (pilotscale.core.stories): each KPI's result.
_USE_CASE_RESULTS = [
    {
        **_USE_CASES[0],
        "kpis": [
            {
                "kpi": "tickets_avoided",
                "title": "HR tickets avoided",
                "unit": "tickets",
                "actual": 342.0,
                "target": 300.0,
                "baseline": 0.0,
                "direction": "up",
                "met": True,
                "as_of": _AS_OF,
            },
            {
                "kpi": "weekly_active_rate",
                "title": "Weekly active rate",
                "unit": "fraction",
                "actual": None,
                "target": 0.6,
                "baseline": None,
                "direction": "up",
                "met": None,
                "as_of": None,
            },
        ],
    }
]
_APPROVAL_EXTRA = {
    "approvers": [ELENA, MARIA],
    "waiting_for": [ELENA, MARIA],
    "required": 1,
    "approved": [],
}

SAMPLES: dict[str, dict[str, Any]] = {
    "champion_welcome": {
        **_ENTRY_BASE,
        "phase": "preparing",
        "phase_title": "Preparing — champions, use cases, support model",
        "talking_points": [
            "It answers from our own policies and documents, with citations you can check.",
            "It drafts, you decide: nothing is sent or filed without you.",
        ],
        "resources": [
            {"title": "Champion playbook", "url": "https://intranet.acme.example/ai/champions"},
            {"title": "Ask the AI CoE", "url": None},
        ],
        "use_cases": _USE_CASES,
        "sponsor": ELENA,
        "lead": MARIA,
        "champion": JON,
        "peers": [{**ANA, "department": "Sales"}, {**PAU, "department": "Operations"}],
        "recipient": _recipient(JON),
    },
    "training_assigned": {
        **_ENTRY_BASE,
        "person": JON,
        "segment": "power",
        "modules": _MODULES,
        "library": _LIBRARY,
        "recipient": _recipient(JON),
    },
    "training_reminder": {
        **_BASE,
        "person": JON,
        "modules": _MODULES[:1],
        "days_overdue": 4,
        "recipient": _recipient(JON),
    },
    "gate_held": {
        **_BASE,
        "phase": "piloting",
        "gate": _METRIC_RESULT,
        "recipient": _recipient(ANA),
    },
    "approval_requested": {
        **_BASE,
        "phase": "scaling",
        "gate": _APPROVAL_RESULT,
        **_APPROVAL_EXTRA,
        "recipient": _recipient(ELENA),
    },
    "approval_reminder": {
        **_BASE,
        "phase": "scaling",
        "gate": _APPROVAL_RESULT,
        **_APPROVAL_EXTRA,
        "recipient": _recipient(ELENA),
    },
    "approval_escalation": {
        **_BASE,
        "phase": "scaling",
        "gate": _APPROVAL_RESULT,
        **_APPROVAL_EXTRA,
        "recipient": _recipient(ELENA),
    },
    "gate_stuck": {
        **_BASE,
        "phase": "scaling",
        "gate": {**_METRIC_RESULT, "outcome": "pending"},
        "checks": 3,
        "owner": _APPROVAL_RESULT["owner"],
        "lead": _recipient(ELENA),
        "recipient": _recipient(ELENA),
    },
    "gate_waived": {
        **_BASE,
        "phase": "scaling",
        "gate": {"gate": "csat", "title": _METRIC_RESULT["title"]},
        "waived_by": _recipient(ELENA),
        "until": "2026-12-31",
        "reason": "the survey tool is down until the new year",
        "owner": _APPROVAL_RESULT["owner"],
        "entered_by": None,
        "recipient": _recipient(ELENA),
    },
    "department_advanced": {
        **_BASE,
        "from_phase": "piloting",
        "to_phase": "scaling",
        "to_phase_title": "Scaling to everyone in the department",
        "gates": [{**_METRIC_RESULT, "outcome": "pass", "observed": "0.71"}],
        "recipient": _recipient(ELENA),
    },
    "department_blocked": {
        **_BASE,
        "phase": "piloting",
        "reason": "3 consecutive failing checks (limit 3)",
        "failures": 3,
        "failure_limit": 3,
        "gates": [_METRIC_RESULT],
        "recipient": _recipient(ELENA),
    },
    "monitoring_regressed": {
        **_BASE,
        "phase": "operating",
        "reason": "monitoring regressed: 3 consecutive failing checks (limit 3), rolled back "
        "to 'scaling' (on_regression): weekly-active: 0.41 (5 samples), needs >= 0.6",
        "failures": 3,
        "failure_limit": 3,
        "gates": [_METRIC_RESULT],
        "rolled_back_to": "scaling",
        "status": "rolled_back",
        "lead": _recipient(ELENA),
        "recipient": _recipient(ELENA),
    },
    "success_story": {
        **_ENTRY_BASE,
        "phase": "scaling",
        "phase_title": "Scaling to everyone in the department",
        "use_cases": _USE_CASE_RESULTS,
        "champions": [JON],
        "sponsor": ELENA,
        "lessons": [
            {
                "text": "Show the policy citations in the first demo: trust came from those.",
                "by": "Jon Ruiz",
                "phase": "piloting",
            }
        ],
        "recipient": _recipient(ANA),
    },
    "weekly_digest": {
        "program": _PROGRAM,
        "as_of": _AS_OF,
        "week": {"start": "2026-11-16", "end": "2026-11-22", "label": "week of 16 Nov 2026"},
        "headline": {
            "text": (
                "1 of 4 departments operating and 1 held (2 not started); most in the way: "
                "Power users use it every week (pending, owner Ana Ruiz), holding Human "
                "Resources. Full scale projects EUR 363,945 a year, EUR 56,055 under the "
                "approved EUR 420,000 (87%); next expected to advance: Human Resources, "
                "around 2026-11-30."
            ),
            "tiles": [
                {"label": "operating", "value": 1, "note": "1 healthy, 0 watched"},
                {"label": "in flight", "value": 0, "note": "every gate passes"},
                {"label": "held", "value": 1, "note": "a gate fails or is pending"},
                {"label": "blocked", "value": 0, "note": "needs an operator to resume"},
            ],
        },
        "impact": [
            {
                "name": "time_saved_hours",
                "title": "Time saved",
                "unit": "hours",
                "value": 1240.0,
                "previous": 1010.0,
                "change": 230.0,
                "target": 4000.0,
            },
            {
                "name": "tickets_avoided",
                "title": "Tickets avoided",
                "unit": "tickets",
                "value": 410.0,
                "previous": None,
                "change": None,
                "target": 1500.0,
            },
        ],
        "phases": [
            {"name": "planned", "title": "Planned", "count": 2},
            {"name": "piloting", "title": "Departmental mini-pilot", "count": 1},
            {"name": "operating", "title": "Operating", "count": 1},
        ],
        "departments": [
            {
                "name": "hr",
                "title": "Human Resources",
                "phase": "piloting",
                "phase_title": "Departmental mini-pilot",
                "status": "active",
                "state": "held",
                "since": "2026-11-02",
                "held_by": ["Power users use it every week"],
            },
            {
                "name": "customer-service",
                "title": "Customer service",
                "phase": "operating",
                "phase_title": "Operating",
                "status": "active",
                "state": "operating, healthy",
                "since": "2026-09-01",
                "held_by": [],
            },
        ],
        "advanced": [{"department": "Sales", "to_phase_title": "Scaling to everyone"}],
        "stories": [
            {
                "department": {"name": "sales", "title": "Sales"},
                "phase": "scaling",
                "phase_title": "Scaling to everyone",
                "entered": "2026-11-19",
                "use_cases": _USE_CASE_RESULTS,
            }
        ],
        "recipient": _recipient(ELENA),
    },
    "delivery_failure": {
        "program": _PROGRAM,
        "as_of": _AS_OF,
        "count": 2,
        "more": 0,
        "dead": [
            {
                "id": "5f0c7a52-5b7e-4b4e-9a53-0d7c2d1f9e11",
                "event": "gate_held",
                "recipient": "ana.diaz",
                "channel": "email",
                "attempts": 6,
                "last_error": "Connection error while submitting email to smtp.acme.example",
                "created_at": "2026-11-23T09:00:00+00:00",
            },
            {
                "id": "9a1d3c44-0f5e-4d8e-8c7b-2e9f1a6b3c22",
                "event": "department_advanced",
                "recipient": "channel:hr-chat",
                "channel": "hr-chat",
                "attempts": 6,
                "last_error": "Failed to send Mattermost notification: error=500",
                "created_at": "2026-11-23T09:00:00+00:00",
            },
        ],
        "recipient": _recipient(MARIA),
    },
    "approval_rejected": {
        **_BASE,
        "phase": "scaling",
        "gate": {"gate": "executive-go-ahead", "title": _APPROVAL_RESULT["title"]},
        "rejected_by": ELENA,
        "comment": "the works council has not been consulted yet",
        "entered_by": {"person": MARIA, "reason": "Elena said so by phone"},
        "recipient": _recipient(MARIA),
    },
    "your_open_items": {
        "program": _PROGRAM,
        "as_of": _AS_OF,
        "items": [
            {
                "kind": "failing",
                "event": "gate_held",
                "department": _HR,
                "phase": "piloting",
                "gate": _METRIC_RESULT,
                "visit": _VISIT,
            },
            {
                "kind": "approval",
                "event": "approval_reminder",
                "department": _SALES,
                "phase": "scaling",
                "gate": _APPROVAL_RESULT,
                **_APPROVAL_EXTRA,
                "visit": _VISIT,
            },
            {
                "kind": "pending",
                "event": "gate_held",
                "department": _SALES,
                "phase": "scaling",
                "gate": {**_METRIC_RESULT, "outcome": "pending"},
                "visit": _VISIT,
            },
        ],
        "more": 0,
        "total": 3,
        "counts": {"failing": 1, "approval": 1, "pending": 1},
        "departments": 2,
        "recipient": _recipient(ELENA),
    },
    "barrier_reported": {
        **_BASE,
        "phase": "piloting",
        "area": "content",
        "text": "the assistant does not know our leave policy",
        "reported_by": JON,
        "entered_by": None,
        "recipient": _recipient(PAU),
    },
}


_WEB = "https://pilotscale.acme.example"
# What each sample's recipient is asked to do: the action links of that message.
_ACTIONS: dict[str, tuple[str, ...]] = {
    "champion_welcome": ("acknowledge", "barrier"),
    "training_assigned": ("barrier",),
    "training_reminder": ("barrier",),
    "approval_requested": ("decide",),
    "approval_reminder": ("decide",),
    "approval_escalation": ("decide",),
    "department_blocked": ("operate",),
    "monitoring_regressed": ("operate",),
}


def _sent(event: str, context: dict[str, Any]) -> dict[str, Any]:
    """`context` with the keys added at dispatch, links included (the tokens are fake)."""
    links = {"board": f"{_WEB}/", "mine": f"{_WEB}/me/SAMPLE-TOKEN-mine"}
    if "department" in context:
        links["department"] = f"{_WEB}/d/{context['department']['name']}"
    for purpose in _ACTIONS.get(event, ()):
        links[purpose] = f"{_WEB}/a/{purpose}/SAMPLE-TOKEN-{purpose}"
    visit = {"visit": _VISIT} if "department" in context else {}
    # A grouped message's links per item: its department's page and the action it asks.
    per_item = {"failing": (), "pending": (), "approval": ("decide",)}
    items = (
        {
            "item_links": [
                {
                    "department": f"{_WEB}/d/{item['department']['name']}",
                    **{
                        p: f"{_WEB}/a/{p}/SAMPLE-TOKEN-{p}-{i}"
                        for p in per_item.get(item["kind"], ())
                    },
                }
                for i, item in enumerate(context["items"])
            ]
        }
        if "items" in context
        else {}
    )
    return {
        **context,
        **visit,
        **items,
        "links": links,
        "operator": context["recipient"]["id"] == MARIA["id"],
        "program_lead": {"name": MARIA["name"], "email": MARIA["email"]},
    }


SAMPLES = {event: _sent(event, context) for event, context in SAMPLES.items()}


def sample(event: str) -> dict[str, Any]:
    return SAMPLES[event]


def without_links(event: str, *, operator: bool = False) -> dict[str, Any]:
    """The sample as sent with no web address or link key configured: `links` is empty,
    so templates fall back to CLI commands (`operator`) or to whom to ask."""
    found = {**SAMPLES[event], "links": {}, "operator": operator}
    if "item_links" in found:
        found["item_links"] = []
    return found
