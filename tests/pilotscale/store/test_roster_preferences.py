"""The roster's message preferences (notify, timezone, quiet_hours, digest_day) stored in a
real store (SQLite and PostgreSQL), read back into the plan the engine uses, and honoured
by routing and by the time a message may go."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.messages import Message
from pilotscale.models import Person
from pilotscale.notifications.routing import routes, send_after
from pilotscale.plan.schema import Plan
from pilotscale.store.queries import forget_parsed_plans, get_program, load_program_plan
from tests.notifications.helpers import applied
from tests.pilotscale.store.test_roster_rows import import_roster

HEADER = "id,name,email,department,segment,notify,timezone,quiet_hours,digest_day\n"
ROSTER = HEADER + (
    "e1,Ana Email,ana@example.com,finance,casual,,,,\n"
    "e2,Bo Chat,bo@example.com,finance,casual,chat,Europe/Berlin,20:00-08:00,\n"
    "e3,Cy Both,cy@example.com,finance,casual,Both,America/New_York,,Friday\n"
    "e4,Di Digest,di@example.com,finance,casual,digest,,,\n"
    # Plan people: lola's plan says notify: chat, which stands; it.desk has no zone.
    "lola.champion,Lola,lola@example.com,finance,casual,email,,,\n"
    "it.desk,IT,it@example.com,finance,none,,Asia/Tokyo,22:00-07:00,mon\n"
)


def stored_plan(engine: Engine) -> Plan:
    # The helper fingerprints every roster alike ('sha-0'): parse the store's copy afresh.
    forget_parsed_plans()
    with Session(engine) as session:
        program = get_program(session=session, name=None)
        return load_program_plan(session=session, program=program)


def channels(plan: Plan, person: str, event: str = "gate_held") -> list[tuple[str, str]]:
    message = Message(event, person, "about", "finance", {})
    return [(r.channel, r.medium) for r in routes(plan, message)]


def test_the_roster_s_preferences_are_stored(engine: Engine, tmp_path: Path) -> None:
    applied(engine)

    import_roster(engine, tmp_path, ROSTER)

    with Session(engine) as session:
        found = {p.key: p for p in session.exec(select(Person))}
    assert [
        (found[k].notify, found[k].timezone, found[k].quiet_hours, found[k].digest_day)
        for k in ("e1", "e2", "e3", "e4", "lola.champion", "it.desk")
    ] == [
        ("email", None, None, None),
        ("chat", "Europe/Berlin", "20:00-08:00", None),
        ("both", "America/New_York", None, "fri"),
        ("digest", None, None, None),
        ("chat", None, None, None),  # the plan's notify stands
        ("email", "Asia/Tokyo", "22:00-07:00", "mon"),
    ]


def test_routing_honours_the_roster_s_notify(engine: Engine, tmp_path: Path) -> None:
    applied(engine)
    import_roster(engine, tmp_path, ROSTER)
    plan = stored_plan(engine)

    assert channels(plan, "e1") == [("email", "email")]
    # No chat address on the roster: chat people get email, nobody is dropped.
    assert channels(plan, "e2") == [("email", "email")]
    assert channels(plan, "e4", "department_advanced") == []  # digest only
    assert channels(plan, "e4", "weekly_digest") == [("email", "email")]
    assert channels(plan, "lola.champion") == [("team-chat", "chat")]  # the plan's


def test_routing_honours_chat_and_both_from_the_roster(engine: Engine, tmp_path: Path) -> None:
    applied(engine)
    text = (
        "id,name,email,department,segment,chat,notify\n"
        "e1,Ana Email,ana@example.com,finance,casual,@ana,email\n"
        "e2,Bo Chat,bo@example.com,finance,casual,@bo,chat\n"
        "e3,Cy Both,cy@example.com,finance,casual,@cy,both\n"
    )
    import_roster(engine, tmp_path, text)
    plan = stored_plan(engine)

    assert channels(plan, "e1") == [("email", "email")]
    assert channels(plan, "e2") == [("team-chat", "chat")]
    assert channels(plan, "e3") == [("email", "email"), ("team-chat", "chat")]


def test_the_roster_s_quiet_hours_and_digest_day_decide_when(
    engine: Engine, tmp_path: Path
) -> None:
    applied(engine)
    import_roster(engine, tmp_path, ROSTER)
    plan = stored_plan(engine)
    # Monday 2026-11-23 21:00 UTC: 22:00 in Berlin, 16:00 in New York, Tuesday 06:00 in Tokyo.
    now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)

    def when(person: str, event: str = "gate_held") -> datetime:
        return send_after(plan, Message(event, person, "about", "finance", {}), now)

    assert when("e1") == now  # no quiet hours anywhere
    assert when("e2") == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 Berlin
    assert when("e2", "department_blocked") == now  # urgent
    assert when("e3") == now
    assert when("e3", "weekly_digest") == datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    # A plan person takes the roster's zone and quiet hours: 07:00 in Tokyo.
    assert when("it.desk") == datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


def test_the_roster_s_notify_fills_in_for_a_plan_person_who_has_none(
    engine: Engine, tmp_path: Path
) -> None:
    """it.desk's plan entry names no `notify`: the roster's digest applies, and stays
    through a second apply of the plan; lola.champion's plan says chat, which stands
    against the roster's email; without a roster choice either, a plan person gets email."""
    applied(engine)
    assert channels(stored_plan(engine), "it.desk") == [("email", "email")]  # no roster yet
    import_roster(
        engine,
        tmp_path,
        HEADER
        + "it.desk,IT,it@example.com,finance,none,digest,,,\n"
        + "lola.champion,Lola,lola@example.com,finance,casual,email,,,\n",
    )

    for _ in range(2):  # as imported, and after the plan is applied again
        plan = stored_plan(engine)
        assert plan.people_by_id["it.desk"].notify == "digest"
        assert channels(plan, "it.desk", "department_advanced") == []  # digest only
        assert channels(plan, "it.desk", "weekly_digest") == [("email", "email")]
        assert channels(plan, "lola.champion") == [("team-chat", "chat")]  # the plan's
        assert channels(plan, "leo.lead") == [("email", "email")]  # not on the roster
        with Session(engine) as session:
            row = session.exec(select(Person).where(Person.key == "it.desk")).one()
        # The plan's column says what the plan says (nothing: email); the roster's apart.
        assert (row.notify, row.roster_notify) == ("email", "digest")
        applied(engine)
