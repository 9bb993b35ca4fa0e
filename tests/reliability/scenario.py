"""A store one readiness check away from doing every kind of work, for crash and race tests.

Departments come in four groups (by index modulo 4), so that a single check at `CHECK_AT`
advances some, holds some and blocks some, and queues email and chat messages for all:

- `advance-prep`: in preparing, both champions acknowledged and the use cases attested
  an hour before the check: advances to piloting (training assigned, announcements);
- `hold`: in preparing with nothing done: held, every gate owner is told what is missing;
- `advance-pilot`: in piloting for 8 days with every gate passing: advances to scaling
  (casual training, the success story shared with every other department's champions);
- `block`: in piloting with a failing metric and one failing check already counted
  (failure_limit 2): blocked, the sponsor is told.

Email goes to an SMTP server and chat to a webhook, both named by environment variables
(`SMTP_ENV`, `CHAT_ENV`), so each test points them at its own loopback receivers.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, table, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from pilotscale.core.phases import DeptState, Event, PhaseMachine
from pilotscale.core.states import Status
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.start import start_department
from pilotscale.models import Department, MetricObservation, Notification, Transition
from pilotscale.store.apply import APPLY_EVENT, apply_plan
from pilotscale.store.insert import insert_ignore
from tests.plans import LEAD, department_name, loaded, members, plan_dict

SMTP_ENV = "PS_RELIABILITY_SMTP_URL"
CHAT_ENV = "PS_RELIABILITY_CHAT_URL"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
CHECK_AT = T0 + timedelta(days=9, hours=1)
GROUPS = ("advance-prep", "hold", "advance-pilot", "block")
PHASES = ("planned", "preparing", "piloting", "scaling", "operating")


def group_of(index: int) -> str:
    return GROUPS[(index - 1) % len(GROUPS)]


def plan_data(departments: int) -> dict[str, Any]:
    """plan_dict with an email and a chat channel, and people of every preference."""
    data = plan_dict(departments, failure_limit=2)
    data["channels"] = [
        {"name": "mail", "kind": "email", "url": f"env:{SMTP_ENV}"},
        {"name": "team-chat", "kind": "chat", "url": f"env:{CHAT_ENV}"},
    ]
    data["program"]["email_channel"] = "mail"
    data["program"]["chat_channel"] = "team-chat"
    for n, person in enumerate(data["people"]):
        preference = ("email", "chat", "both")[n % 3]
        person["notify"] = preference
        if preference != "email":
            person["chat"] = f"@{person['id']}"
    return data


def machine() -> PhaseMachine:
    return PhaseMachine(PHASES)


def build(engine: Engine, departments: int = 12) -> None:
    """Bring an empty, migrated store to the state described in the module doc."""
    names = [department_name(i) for i in range(1, departments + 1)]
    groups = {name: group_of(i) for i, name in enumerate(names, start=1)}
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded(plan_data(departments)), now=T0, actor=LEAD)
    for name in names:
        start_department(engine=engine, department=name, now=T0, actor=LEAD)

    day1 = T0 + timedelta(days=1)
    piloting = [n for n in names if groups[n] in ("advance-pilot", "block")]
    for name in piloting:
        _prepare_passes(engine, name, now=day1 - timedelta(hours=1))
    run_readiness_check(engine=engine, now=day1, departments=piloting)

    blocked = [n for n in names if groups[n] == "block"]
    for name in blocked:
        _observe(engine, name, [0.1, 0.2, 0.1], start=CHECK_AT - timedelta(days=2))
    run_readiness_check(engine=engine, now=CHECK_AT - timedelta(days=1), departments=blocked)

    for name in names:
        if groups[name] == "advance-prep":
            _prepare_passes(engine, name, now=CHECK_AT - timedelta(hours=1))
        elif groups[name] == "advance-pilot":
            _pilot_passes(engine, name, now=CHECK_AT - timedelta(hours=2))
    # What was queued while getting here is not what the tests are about.
    with Session(engine) as session, session.begin():
        session.execute(update(Notification).values(status="sent", attempts=1))


def _prepare_passes(engine: Engine, department: str, *, now: datetime) -> None:
    for champion in ("champ1", "champ2"):
        person = f"{department}-{champion}"
        operator.acknowledge(engine=engine, department=department, actor=cli_actor(person), now=now)
    operator.attest(
        engine=engine,
        department=department,
        gate="use-cases",
        actor=cli_actor(f"{department}-sponsor"),
        evidence="wiki",
        now=now,
    )


def _pilot_passes(engine: Engine, department: str, *, now: datetime) -> None:
    _observe(engine, department, [0.6, 0.7, 0.8], start=now - timedelta(hours=5))
    for person, segment in members(department).items():
        if segment == "power":
            operator.complete_training(engine=engine, person=person, module="full-course", now=now)
    operator.attest(
        engine=engine,
        department=department,
        gate="guardrails",
        actor=cli_actor("compliance"),
        evidence="wiki",
        now=now,
    )
    operator.approve(
        engine=engine,
        department=department,
        gate="go-ahead",
        actor=cli_actor(LEAD),
        comment="go",
        now=now,
    )


def _observe(engine: Engine, department: str, values: list[float], *, start: datetime) -> None:
    with Session(engine) as session, session.begin():
        row = session.exec(select(Department).where(col(Department.name) == department)).one()
        insert_ignore(
            session=session,
            model=MetricObservation,
            rows=[
                {
                    "program_id": row.program_id,
                    "department_id": row.id,
                    "metric": "weekly_active_rate",
                    "value": value,
                    "observed_at": start + timedelta(hours=i),
                }
                for i, value in enumerate(values)
            ],
        )


# --------------------------------------------------------------------------- reading back


def replay_problems(engine: Engine) -> list[str]:
    """Every department's transitions replayed through the state machine; [] when each
    history is a valid path (each row starts where the previous one ended, and the
    machine agrees with where it went)."""
    fsm = machine()
    problems: list[str] = []
    with Session(engine) as session:
        rows = session.exec(
            select(Department.name, Transition)
            .join(Department, col(Department.id) == col(Transition.department_id))
            .order_by(col(Transition.department_id), col(Transition.id))
        ).all()
    states: dict[str, DeptState | None] = {}
    for name, row in rows:
        state = states.get(name)
        if row.event == APPLY_EVENT:
            if state is not None:
                problems.append(f"{name}: applied twice (row {row.id})")
            states[name] = DeptState(row.to_phase, Status(row.to_status))
            continue
        if state is None:
            problems.append(f"{name}: '{row.event}' before the department existed")
            continue
        if (row.from_phase, row.from_status) != (state.phase, state.status.value):
            problems.append(f"{name}: row {row.id} starts at {row.from_phase} but it was {state}")
        target = row.to_phase if row.event == Event.rollback.value else None
        try:
            after = fsm.apply(state, Event(row.event), target=target, department=name)
        except Exception as exc:  # the machine refuses: the history is not a valid path
            problems.append(f"{name}: row {row.id}: {exc}")
            continue
        if (after.phase, after.status.value) != (row.to_phase, row.to_status):
            problems.append(f"{name}: row {row.id} went to {row.to_phase} but {event_of(row)}")
        states[name] = after
    return problems


def event_of(row: Transition) -> str:
    return f"'{row.event}' from {row.from_phase} leads elsewhere"


def advances_at(engine: Engine, at: datetime) -> dict[str, int]:
    """How many times each department advanced at `at` (one check's transitions)."""
    counts: dict[str, int] = {}
    with Session(engine) as session:
        rows = session.exec(
            select(Department.name, Transition.at)
            .join(Department, col(Department.id) == col(Transition.department_id))
            .where(col(Transition.event) == Event.advance.value)
        ).all()
    for name, when in rows:
        if when == at:
            counts[name] = counts.get(name, 0) + 1
    return counts


def fingerprint(engine: Engine) -> dict[str, Any]:
    """What a check and a dispatcher wrote, without ids, run ids, attempts or timings:
    two stores that reached the same outcome by different routes compare equal."""
    with Session(engine) as session:
        departments = session.exec(
            select(
                Department.name,
                Department.phase,
                Department.status,
                Department.consecutive_failures,
                Department.last_check_key,
                Department.phase_entered_at,
            ).order_by(col(Department.name))
        ).all()
        moves = session.exec(
            select(
                Department.name,
                Transition.from_phase,
                Transition.to_phase,
                Transition.to_status,
                Transition.event,
                Transition.actor,
                Transition.reason,
                Transition.at,
            )
            .join(Department, col(Department.id) == col(Transition.department_id))
            .order_by(col(Department.name), col(Transition.id))
        ).all()
        messages = session.exec(
            select(
                Notification.dedupe_key,
                Notification.recipient_key,
                Notification.channel,
                Notification.subject,
                Notification.context_json,
                Notification.status,
            ).order_by(col(Notification.dedupe_key))
        ).all()
        tables = {
            name: session.execute(sql_select(func.count()).select_from(table(name))).scalar_one()
            for name in ("gate_result", "training_assignment", "champion_onboarding")
        }
    return {
        "departments": [tuple(map(str, row)) for row in departments],
        "transitions": [tuple(map(str, row)) for row in moves],
        "messages": [(*row[:4], json.loads(row[4]), row[5]) for row in messages],
        "rows": tables,
    }
