"""A champion answers the welcome kit: takes the role (acknowledge) or declines it with a
reason. Only the champion answers, or a lead entering their answer on their behalf."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from pilotscale.core.actors import Actor
from pilotscale.core.duties import Acting, require_text
from pilotscale.core.permissions import allow_acknowledge, identify
from pilotscale.engine.acting import (
    Done,
    Refused,
    begin,
    on_behalf_note,
    recorded_os_user,
    use_link,
    view_and_row,
)
from pilotscale.links import Purpose
from pilotscale.models import ChampionOnboarding, Person


def acknowledge(
    *,
    engine: Engine,
    department: str,
    actor: Actor,
    now: datetime,
    champion: str | None = None,
    program: str | None = None,
) -> Done:
    """The champion (`actor.subject`) confirms they received the welcome kit and take the
    role. Acknowledging after declining takes the role after all. `champion` (an email or
    id, as typed at the CLI) must then name that same person."""
    return _answer(
        engine=engine,
        department=department,
        actor=actor,
        now=now,
        program=program,
        reason=None,
        champion=champion,
    )


def decline(
    *,
    engine: Engine,
    department: str,
    actor: Actor,
    reason: str,
    now: datetime,
    champion: str | None = None,
    program: str | None = None,
) -> Done:
    """The champion declines the role, saying why (shown to the program lead)."""
    why = require_text(reason, what="say why you decline: --reason TEXT is shown to the lead")
    return _answer(
        engine=engine,
        department=department,
        actor=actor,
        now=now,
        program=program,
        reason=why,
        champion=champion,
    )


def _answer(
    *,
    engine: Engine,
    department: str,
    actor: Actor,
    now: datetime,
    program: str | None,
    reason: str | None,
    champion: str | None,
) -> Done:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view, row = view_and_row(session, program, department)
        act = begin(view, row, actor)
        champ = act.subject
        named = identify(view.plan, champion) if champion is not None else champ
        if named.id not in view.plan.department(department).champions:
            raise Refused(f"'{named.email}' is not a champion of {department}")
        # A person answers for themself: naming another champion needs --on-behalf-of.
        allow_acknowledge(view.plan, champ, named.id, department)
        onboarding = session.exec(
            select(ChampionOnboarding)
            .join(Person, col(Person.id) == col(ChampionOnboarding.person_id))
            .where(
                col(Person.program_id) == (view.program.id or 0),
                col(Person.key) == champ.id,
                col(ChampionOnboarding.department_id) == row.id,
            )
        ).first()
        if onboarding is None:
            raise Refused(
                f"{champ.name} has not been onboarded yet (the department is not started)"
            )
        if reason is None and onboarding.acknowledged_at is not None:
            return Done(department, f"{champ.name} had already acknowledged", False)
        if reason is not None and onboarding.declined_at is not None:
            return Done(department, f"{champ.name} had already declined", False)
        use_link(
            session,
            actor,
            purpose=Purpose.acknowledge,
            person=act.person.id,
            department_id=row.id,
            now=now,
        )
        _record(onboarding, act, actor, now=now, reason=reason)
        session.add(onboarding)
    note = on_behalf_note(act)
    if reason is None:
        return Done(
            department, f"{champ.name} acknowledged the champion role for {row.title}{note}"
        )
    return Done(department, f"{champ.name} declined the champion role for {row.title}{note}")


def _record(
    onboarding: ChampionOnboarding, act: Acting, actor: Actor, *, now: datetime, reason: str | None
) -> None:
    """The latest answer stands: acknowledging clears a decline, declining an
    acknowledgement (the champion gate counts acknowledged champions only)."""
    if reason is None:
        onboarding.acknowledged_at = now
        onboarding.declined_at = None
        onboarding.decline_reason = ""
    else:
        onboarding.declined_at = now
        onboarding.decline_reason = reason
        onboarding.acknowledged_at = None
    onboarding.identity_source = act.identity_source
    onboarding.acted_by = act.acted_by
    onboarding.on_behalf_reason = act.reason
    onboarding.os_user = recorded_os_user(actor)
