"""Driving a store through a rollout the way people and the scheduler do, and reading it back.

Everything goes through the engine's public functions (apply, start, acknowledge,
attest, approve, complete training) except metric observations, which are written
as an import would write them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select, update

from pilotscale.core.messages import GROUPED
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.check import run_readiness_check
from pilotscale.engine.start import start_department
from pilotscale.models import (
    Attestation,
    ChampionOnboarding,
    Department,
    GateResultRecord,
    MetricObservation,
    Notification,
    Person,
    TrainingAssignment,
    Transition,
)
from pilotscale.store.apply import apply_plan
from pilotscale.store.insert import insert_ignore
from tests.plans import EXEC, LEAD, department_name, loaded, members, plan_dict

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday
PILOTING_AT = T0 + timedelta(days=2)  # when `into_piloting` advances its departments


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


def apply(engine: Engine, data: dict[str, Any] | None = None, *, now: datetime = T0) -> None:
    with Session(engine) as session, session.begin():
        apply_plan(session=session, loaded=loaded(data or plan_dict()), now=now, actor=LEAD)


def names(count: int) -> list[str]:
    return [department_name(i) for i in range(1, count + 1)]


def start(engine: Engine, departments: Iterable[str], *, now: datetime = T0) -> None:
    for name in departments:
        start_department(engine=engine, department=name, now=now, actor=LEAD)


def prepare_passes(engine: Engine, department: str, *, now: datetime) -> None:
    """Both champions acknowledge and the sponsor attests: every preparing gate passes."""
    for champion in ("champ1", "champ2"):
        person = f"{department}-{champion}"
        operator.acknowledge(engine=engine, department=department, actor=cli_actor(person), now=now)
    attest(engine, department, "use-cases", now=now)


def owner(department: str, gate: str) -> str:
    """Who attests `gate` in a generated department: its owner (a person acts for themself)."""
    return {"use-cases": f"{department}-sponsor", "guardrails": "compliance"}.get(gate, LEAD)


def attest(engine: Engine, department: str, gate: str, *, now: datetime) -> None:
    operator.attest(
        engine=engine,
        department=department,
        gate=gate,
        actor=cli_actor(owner(department, gate)),
        evidence="wiki/page",
        now=now,
    )


def approve(engine: Engine, department: str, *, now: datetime, by: str = EXEC) -> None:
    operator.approve(
        engine=engine,
        department=department,
        gate="go-ahead",
        actor=cli_actor(by),
        comment="go",
        now=now,
    )


def observe(engine: Engine, department: str, values: Iterable[float], *, start: datetime) -> None:
    """One weekly_active_rate observation per hour from `start`, as an import writes them."""
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


def complete(engine: Engine, department: str, segment: str, *, now: datetime) -> None:
    """Every person of `segment` in the department completes their module."""
    module = "full-course" if segment == "power" else "quick-start"
    for person, seg in members(department).items():
        if seg == segment:
            operator.complete_training(engine=engine, person=person, module=module, now=now)


def into_piloting(
    engine: Engine, data: dict[str, Any] | None = None, departments: Iterable[str] = ("d001",)
) -> None:
    """Apply, start, pass every preparing gate and check: the departments are piloting,
    entered at PILOTING_AT (every other department of the plan is not started)."""
    wanted = list(departments)
    apply(engine, data or plan_dict(len(wanted)))
    start(engine, wanted)
    for name in wanted:
        prepare_passes(engine, name, now=day(1))
    run_readiness_check(engine=engine, now=PILOTING_AT)
    now_in = states(engine)
    assert all(now_in[name] == ("piloting", "active") for name in wanted), now_in


def pass_preparing_in_bulk(
    engine: Engine, departments: Iterable[str], *, now: datetime, attest: bool = True
) -> None:
    """What `prepare_passes` does, in two statements for any number of departments (the
    people's side is not under test here, and hundreds of CLI calls would be slow).
    Without `attest`, only the champions acknowledge: the departments are held, pending."""
    wanted = list(departments)
    with Session(engine) as session, session.begin():
        ids = session.exec(select(Department.id).where(col(Department.name).in_(wanted))).all()
        rows = [i for i in ids if i is not None]
        session.exec(
            update(ChampionOnboarding)
            .where(col(ChampionOnboarding.department_id).in_(rows))
            .values(acknowledged_at=now)
        )
        if not attest:
            return
        session.add_all(
            Attestation(
                department_id=department_id,
                phase="preparing",
                gate="use-cases",
                attested_by=LEAD,
                evidence="wiki/page",
                attested_at=now,
            )
            for department_id in rows
        )


def pilot_passes(engine: Engine, department: str, *, now: datetime) -> None:
    """Every piloting gate but the soak passes as of `now` (the soak needs 1w in phase)."""
    observe(engine, department, [0.6, 0.7, 0.8], start=now - timedelta(hours=5))
    complete(engine, department, "power", now=now)
    attest(engine, department, "guardrails", now=now)
    approve(engine, department, now=now)


# --------------------------------------------------------------------------- reading back


def states(engine: Engine) -> dict[str, tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(select(Department.name, Department.phase, Department.status)).all()
    return {name: (phase, status) for name, phase, status in rows}


def department(engine: Engine, name: str) -> Department:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(select(Department).where(col(Department.name) == name)).one()


def transitions(engine: Engine, name: str | None = None) -> list[Transition]:
    query = select(Transition).join(Department, col(Department.id) == col(Transition.department_id))
    if name is not None:
        query = query.where(col(Department.name) == name)
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(query.order_by(col(Transition.id))))


def events(engine: Engine, name: str) -> list[str]:
    return [t.event for t in transitions(engine, name)]


def outbox(engine: Engine, *, event: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(col(Notification.dedupe_key))
    if event is not None:
        query = query.where(col(Notification.event) == event)
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(query))


@dataclass(frozen=True)
class Told:
    """One item told in the outbox: a message of its own, or an item of a grouped one
    (core.grouping), with the dedupe key and context it would have had on its own."""

    event: str
    recipient_key: str
    channel: str
    dedupe_key: str
    context_json: str
    grouped: bool


def told(engine: Engine, *, event: str) -> list[Told]:
    """Every row of `event`, and every item of that event in a grouped message."""
    found = [
        Told(n.event, n.recipient_key, n.channel, n.dedupe_key, n.context_json, False)
        for n in outbox(engine, event=event)
    ]
    for n in outbox(engine, event=GROUPED):
        message = context(n)
        shared = {k: message[k] for k in ("program", "as_of") if k in message}
        for item in message["items"]:
            if item["event"] != event:
                continue
            key = f"{event}|{item['about']}|{n.recipient_key}|{n.channel}"
            ctx = json.dumps({**shared, **item, "recipient": message.get("recipient")})
            found.append(Told(event, n.recipient_key, n.channel, key, ctx, True))
    return sorted(found, key=lambda t: t.dedupe_key)


def told_to(engine: Engine, event: str) -> set[str]:
    return {t.recipient_key for t in told(engine, event=event)}


def recipients(engine: Engine, event: str, *, about: str | None = None) -> set[str]:
    """Recipients of `event` (optionally only those whose dedupe key mentions `about`)."""
    return {
        n.recipient_key
        for n in outbox(engine, event=event)
        if about is None or f"|{about}" in n.dedupe_key
    }


def context(notification: Notification | Told) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(notification.context_json)
    return data


def assignments(engine: Engine, name: str) -> set[tuple[str, str, str]]:
    """(person, segment, module) of the department's training assignments."""
    with Session(engine) as session:
        rows = session.exec(
            select(Person.key, TrainingAssignment.segment, TrainingAssignment.module_id)
            .join(Person, col(Person.id) == col(TrainingAssignment.person_id))
            .join(Department, col(Department.id) == col(TrainingAssignment.department_id))
            .where(col(Department.name) == name)
        ).all()
    return {(p, s, m) for p, s, m in rows}


def onboarded(engine: Engine, name: str) -> set[str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Person.key)
            .join(ChampionOnboarding, col(ChampionOnboarding.person_id) == col(Person.id))
            .join(Department, col(Department.id) == col(ChampionOnboarding.department_id))
            .where(col(Department.name) == name)
        ).all()
    return set(rows)


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def _columns(*attributes: Any) -> Any:
    return sql_select(*(col(a) for a in attributes))


def store_state(engine: Engine) -> dict[str, Any]:
    """Everything a readiness check writes, without ids, run ids or random values: two
    stores that went through the same story compare equal."""
    d, t, g, n = Department, Transition, GateResultRecord, Notification
    on_department = col(d.id) == col(t.department_id)
    with Session(engine) as session:
        departments = session.execute(
            _columns(
                d.name,
                d.phase,
                d.status,
                d.version,
                d.phase_entered_at,
                d.consecutive_failures,
                d.last_check_key,
            ).order_by(col(d.name))
        ).all()
        moves = session.execute(
            _columns(
                d.name, t.from_phase, t.to_phase, t.to_status, t.event, t.actor, t.reason, t.at
            )
            .join(d, on_department)
            .order_by(col(d.name), col(t.id))
        ).all()
        results = session.execute(
            _columns(
                d.name, g.phase, g.gate, g.outcome, g.observed_text, g.reason, g.check_key
            ).join(d, col(d.id) == col(g.department_id))
        ).all()
        messages = session.execute(
            _columns(
                n.dedupe_key,
                n.event,
                n.recipient_key,
                n.channel,
                n.subject,
                n.context_json,
                n.status,
            )
        ).all()
        training = session.execute(
            _columns(Person.key, TrainingAssignment.module_id, TrainingAssignment.due_at).join(
                Person, col(Person.id) == col(TrainingAssignment.person_id)
            )
        ).all()
        champions = session.execute(
            _columns(Person.key, ChampionOnboarding.welcomed_at).join(
                Person, col(Person.id) == col(ChampionOnboarding.person_id)
            )
        ).all()
    return {
        "departments": [tuple(row) for row in departments],
        "transitions": [tuple(row) for row in moves],
        "gate_results": sorted(tuple(row) for row in results),
        "notifications": sorted(tuple(row) for row in messages),
        "training": sorted(tuple(row) for row in training),
        "onboarding": sorted(tuple(row) for row in champions),
    }
