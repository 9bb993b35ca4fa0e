"""Every action bound to a person: approvers reject and approve, owners attest, champions
answer, sponsors pause, anyone reports a barrier; operators act for others only on their
behalf, with a reason; a signed link acts once, and only for the visit it was sent for."""

from __future__ import annotations

import os
import pwd
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.actors import Actor, Source
from pilotscale.core.duties import OutOfDate, ReasonRequired, SelfApproval
from pilotscale.core.permissions import NotAllowed
from pilotscale.core.phases import Event
from pilotscale.engine import operator
from pilotscale.engine.acting import LinkUsed, cli_actor
from pilotscale.engine.people_lines import lines
from pilotscale.engine.verdicts import DepartmentVerdict, read_verdicts
from pilotscale.links import visit_key
from pilotscale.models import Approval, Attestation, Barrier, ChampionOnboarding, LinkUse
from pilotscale.store.snapshot import load_view
from tests.pilotscale.engine import helpers as h
from tests.plans import DEPUTY, EXEC, LEAD, OUTSIDER, plan_dict

DEPT = "d001"
GATE = "go-ahead"
ME = pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def piloting(engine: Engine) -> Engine:
    """d001 in piloting, entered by a readiness check (the scheduler)."""
    h.into_piloting(engine)
    return engine


def verdict(engine: Engine, at: datetime) -> DepartmentVerdict:
    with Session(engine) as session:
        view = load_view(session=session)
        return read_verdicts(session=session, view=view, now=at, names=[DEPT], with_people=True)[
            DEPT
        ]


def gate(engine: Engine, name: str, at: datetime) -> tuple[str, str]:
    g = next(g for g in verdict(engine, at).gates if g.gate == name)
    return str(g.outcome), g.reason


def rows(engine: Engine, model: Any) -> list[Any]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(model)))


def decide(
    engine: Engine, actor: Actor, *, reject: bool = False, comment: str = "ok", at: datetime
) -> operator.Done:
    action = operator.reject if reject else operator.approve
    return action(engine=engine, department=DEPT, gate=GATE, actor=actor, comment=comment, now=at)


def link(person: str, nonce: str, visit: str | None = None, os_user: str = "") -> Actor:
    return Actor(
        person=person,
        source=Source.link,
        link_nonce=nonce,
        visit=visit if visit is not None else visit_key(h.PILOTING_AT),
        os_user=os_user,
    )


# --------------------------------------------------------------------------- approvers


def test_a_rejection_holds_the_gate_tells_the_lead_and_a_later_approval_lifts_it(
    piloting: Engine,
) -> None:
    done = decide(
        piloting, cli_actor(EXEC), reject=True, comment="works council first", at=h.day(3)
    )

    assert done.changed
    assert gate(piloting, GATE, h.day(3)) == ("fail", "rejected by Exec: works council first")
    (told,) = h.outbox(piloting, event="approval_rejected")
    assert told.recipient_key == LEAD
    context = h.context(told)
    assert (context["rejected_by"]["id"], context["comment"]) == (EXEC, "works council first")
    # The lead's approval does not outweigh the executive's rejection...
    decide(piloting, cli_actor(LEAD), at=h.day(4))
    assert gate(piloting, GATE, h.day(4))[0] == "fail"
    # ... the executive's own later approval does.
    decide(piloting, cli_actor(EXEC), comment="consulted", at=h.day(5))
    assert gate(piloting, GATE, h.day(5)) == ("pass", "approved by exec, lead")
    # Every decision is kept; the report's and explain's lines show the latest of each.
    assert [(a.approver_key, a.decision) for a in rows(piloting, Approval)] == [
        (EXEC, "reject"),
        (LEAD, "approve"),
        (EXEC, "approve"),
    ]
    said = lines(load_plan(piloting), verdict(piloting, h.day(5)).people)
    assert said.decisions == (
        f"{GATE}: approved by Lead on {h.day(4):%Y-%m-%d}: ok",
        f"{GATE}: approved by Exec on {h.day(5):%Y-%m-%d}: consulted",
    )


def load_plan(engine: Engine) -> Any:
    with Session(engine) as session:
        return load_view(session=session).plan


def test_a_rejection_needs_a_comment_and_records_nothing_without(piloting: Engine) -> None:
    with pytest.raises(ReasonRequired, match="--comment"):
        decide(piloting, cli_actor(EXEC), reject=True, comment="  ", at=h.day(3))

    assert rows(piloting, Approval) == []
    assert h.outbox(piloting, event="approval_rejected") == []


def test_the_same_decision_twice_records_nothing_the_second_time(piloting: Engine) -> None:
    decide(piloting, cli_actor(EXEC), at=h.day(3))
    again = decide(piloting, cli_actor(EXEC), at=h.day(4))
    decide(piloting, cli_actor(LEAD), reject=True, comment="no", at=h.day(4))
    twice = decide(piloting, cli_actor(LEAD), reject=True, comment="still no", at=h.day(5))

    assert not again.changed
    assert "had already approved" in again.message
    assert not twice.changed
    assert "had already rejected" in twice.message
    assert len(rows(piloting, Approval)) == 2


def test_an_approver_who_attested_a_gate_of_the_visit_may_not_approve_it(
    piloting: Engine,
) -> None:
    operator.attest(
        engine=piloting,
        department=DEPT,
        gate="guardrails",
        actor=cli_actor(LEAD, on_behalf_of="compliance", reason="confirmed in the steering call"),
        evidence="wiki/policy",
        now=h.day(3),
    )

    with pytest.raises(SelfApproval, match="you attested a gate of this phase"):
        decide(piloting, cli_actor(LEAD), at=h.day(3))
    # Holding back is allowed (once: the same decision again records nothing).
    decide(piloting, cli_actor(LEAD), reject=True, comment="second thoughts", at=h.day(3))
    shouted = f"{LEAD.upper()}@EXAMPLE.COM"
    decide(piloting, cli_actor(shouted), reject=True, comment="x", at=h.day(3))
    assert [a.decision for a in rows(piloting, Approval)] == ["reject"]


def test_an_approver_who_moved_the_department_into_its_phase_may_not_approve_it(
    engine: Engine,
) -> None:
    data = plan_dict(1)
    data["phases"][1]["exit_gates"].append(GATE)  # preparing: entered by whoever starts it
    h.apply(engine, data)
    h.start(engine, [DEPT])  # by the lead

    with pytest.raises(SelfApproval, match="you moved it into this phase") as refused:
        decide(engine, cli_actor(LEAD), at=h.day(1))
    assert "ask another approver (exec@example.com)" in str(refused.value)
    decide(engine, cli_actor(EXEC), at=h.day(1))
    assert [a.approver_key for a in rows(engine, Approval)] == [EXEC]


def test_an_operator_decides_for_an_approver_only_on_their_behalf(piloting: Engine) -> None:
    with pytest.raises(NotAllowed, match="not an approver"):
        decide(piloting, cli_actor(DEPUTY), at=h.day(3))  # a lead, but not an approver
    with pytest.raises(ReasonRequired):
        decide(piloting, cli_actor(DEPUTY, on_behalf_of=EXEC), at=h.day(3))
    with pytest.raises(NotAllowed, match="only a lead"):
        decide(piloting, cli_actor(OUTSIDER, on_behalf_of=EXEC, reason="x"), at=h.day(3))
    assert rows(piloting, Approval) == []

    done = decide(piloting, cli_actor(DEPUTY, on_behalf_of=EXEC, reason="by phone"), at=h.day(3))

    assert done.message.endswith("— entered by Deputy on behalf: 'by phone'")
    (row,) = rows(piloting, Approval)
    assert (row.approver_key, row.acted_by, row.identity_source, row.on_behalf_reason) == (
        EXEC,
        DEPUTY,
        "on_behalf",
        "by phone",
    )
    assert row.os_user == ME


# --------------------------------------------------------------------------- signed links


def test_a_link_acts_once_and_a_replay_records_nothing(piloting: Engine) -> None:
    decide(
        piloting,
        link(EXEC, "nonce-1", os_user="proxy-user"),
        reject=True,
        comment="no",
        at=h.day(3),
    )

    with pytest.raises(LinkUsed, match=f"already used on {h.day(3):%Y-%m-%d}"):
        decide(piloting, link(EXEC, "nonce-1"), comment="yes", at=h.day(4))

    (row,) = rows(piloting, Approval)
    assert (row.decision, row.identity_source, row.os_user) == ("reject", "link", "proxy-user")
    (used,) = rows(piloting, LinkUse)
    assert (used.nonce, used.purpose, used.person_key) == ("nonce-1", "decide", EXEC)
    assert len(h.outbox(piloting, event="approval_rejected")) == 1


def test_a_refused_action_does_not_use_up_its_link(piloting: Engine) -> None:
    with pytest.raises(ReasonRequired):
        decide(piloting, link(EXEC, "nonce-2"), reject=True, comment="", at=h.day(3))
    with pytest.raises(NotAllowed):
        decide(piloting, link("d001-sponsor", "nonce-2"), at=h.day(3))

    decide(piloting, link(EXEC, "nonce-2"), at=h.day(3))
    assert len(rows(piloting, LinkUse)) == 1


def test_a_link_for_a_visit_the_department_has_left_is_refused(piloting: Engine) -> None:
    old = visit_key(h.T0)  # the preparing visit's links

    with pytest.raises(OutOfDate, match="earlier stage of Department 1; it is now in piloting"):
        decide(piloting, link(EXEC, "nonce-3", visit=old), at=h.day(3))
    assert rows(piloting, Approval) == []
    assert rows(piloting, LinkUse) == []


# --------------------------------------------------------------------------- owners


def test_only_the_owner_attests_and_an_operator_enters_it_on_their_behalf(
    piloting: Engine,
) -> None:
    with pytest.raises(NotAllowed, match=r"its owner is compliance@example\.com"):
        operator.attest(
            engine=piloting,
            department=DEPT,
            gate="guardrails",
            actor=cli_actor(LEAD),
            evidence="x",
            now=h.day(3),
        )
    assert [a.gate for a in rows(piloting, Attestation)] == ["use-cases"]  # of preparing

    done = operator.attest(
        engine=piloting,
        department=DEPT,
        gate="guardrails",
        actor=cli_actor(LEAD, on_behalf_of="compliance@example.com", reason="confirmed by phone"),
        evidence="wiki/policy",
        now=h.day(3),
    )

    (row,) = [a for a in rows(piloting, Attestation) if a.gate == "guardrails"]
    assert (row.attested_by, row.acted_by, row.identity_source, row.os_user) == (
        "compliance",
        LEAD,
        "on_behalf",
        ME,
    )
    assert done.message == (
        "'guardrails' attested for Department 1 by Compliance — entered by Lead on behalf: "
        "'confirmed by phone'"
    )
    said = lines(load_plan(piloting), verdict(piloting, h.day(3)).people)
    assert said.attestations == (  # the current visit's only
        f"guardrails: attested by Compliance on {h.day(3):%Y-%m-%d} (evidence: wiki/policy)"
        " — entered by Lead on behalf: 'confirmed by phone'",
    )


# --------------------------------------------------------------------------- champions


def onboarding(engine: Engine) -> dict[str, ChampionOnboarding]:
    from pilotscale.models import Person

    with Session(engine, expire_on_commit=False) as session:
        found = session.exec(
            select(Person.key, ChampionOnboarding).join(
                ChampionOnboarding,
                ChampionOnboarding.person_id == Person.id,  # type: ignore[arg-type]
            )
        ).all()
    return {key: row for key, row in found}


def test_a_champion_declines_with_a_reason_and_may_accept_after_all(engine: Engine) -> None:
    h.apply(engine, plan_dict(1))
    h.start(engine, [DEPT])
    champ = f"{DEPT}-champ1"

    with pytest.raises(ReasonRequired):
        operator.decline(
            engine=engine, department=DEPT, actor=cli_actor(champ), reason="", now=h.day(1)
        )
    with pytest.raises(NotAllowed, match="only the champion"):
        operator.acknowledge(
            engine=engine, department=DEPT, champion=champ, actor=cli_actor(LEAD), now=h.day(1)
        )
    done = operator.decline(
        engine=engine, department=DEPT, actor=cli_actor(champ), reason="on leave", now=h.day(1)
    )

    assert (
        done.message
        == f"{champ.replace('-', ' ').title()} declined the champion role for Department 1"
    )
    row = onboarding(engine)[champ]
    assert (row.declined_at, row.decline_reason, row.acknowledged_at) == (
        h.day(1),
        "on leave",
        None,
    )
    assert (row.identity_source, row.os_user) == ("cli", ME)

    operator.acknowledge(
        engine=engine,
        department=DEPT,
        champion=champ,
        actor=cli_actor(LEAD, on_behalf_of=champ, reason="back early, said yes in person"),
        now=h.day(2),
    )
    row = onboarding(engine)[champ]
    assert (row.acknowledged_at, row.declined_at, row.decline_reason) == (h.day(2), None, "")
    assert (row.identity_source, row.acted_by) == ("on_behalf", LEAD)
    said = lines(load_plan(engine), verdict(engine, h.day(2)).people)
    assert said.champions[0] == (
        f"D001 Champ1 acknowledged on {h.day(2):%Y-%m-%d} — entered by Lead on behalf: "
        "'back early, said yes in person'"
    )


# --------------------------------------------------------------------------- sponsors


def test_a_sponsor_pauses_by_link_and_a_lead_resumes_on_their_behalf(piloting: Engine) -> None:
    sponsor = f"{DEPT}-sponsor"
    operator.operate(
        engine=piloting,
        department=DEPT,
        event=Event.pause,
        actor=link(sponsor, "nonce-p", os_user="web"),
        reason="works council meeting",
        now=h.day(3),
    )
    operator.operate(
        engine=piloting,
        department=DEPT,
        event=Event.resume,
        actor=cli_actor(LEAD, on_behalf_of=sponsor, reason="asked by phone"),
        reason="meeting done",
        now=h.day(4),
    )

    pause, resume = h.transitions(piloting, DEPT)[-2:]
    assert (pause.actor, pause.identity_source, pause.on_behalf_of, pause.os_user) == (
        sponsor,
        "link",
        "",
        "web",
    )
    assert (resume.actor, resume.identity_source, resume.on_behalf_of, resume.os_user) == (
        LEAD,
        "on_behalf",
        sponsor,
        ME,
    )
    with pytest.raises(NotAllowed):  # on behalf of someone who may not: refused
        operator.operate(
            engine=piloting,
            department=DEPT,
            event=Event.pause,
            actor=cli_actor(LEAD, on_behalf_of=OUTSIDER, reason="x"),
            reason="y",
            now=h.day(5),
        )


# --------------------------------------------------------------------------- barriers


@pytest.mark.parametrize(("area", "told"), [("content", "knowledge"), ("", LEAD)])
def test_a_barrier_is_shown_and_its_area_owner_told(piloting: Engine, area: str, told: str) -> None:
    done = operator.report_barrier(
        engine=piloting,
        department=DEPT,
        actor=cli_actor(f"{DEPT}-casual1"),
        text="it does not know our <b>leave</b> policy",
        area=area,
        now=h.day(3),
    )

    assert done.changed
    (row,) = rows(piloting, Barrier)
    assert (row.reported_by, row.area, row.phase, row.resolved_at) == (
        f"{DEPT}-casual1",
        area,
        "piloting",
        None,
    )
    (message,) = h.outbox(piloting, event="barrier_reported")
    assert message.recipient_key == told
    people = verdict(piloting, h.day(3)).people
    assert [b.text for b in people.barriers] == ["it does not know our <b>leave</b> policy"]


def test_a_barrier_needs_text_an_area_that_exists_and_someone_of_the_department(
    piloting: Engine,
) -> None:
    def report(by: str, text: str = "slow", area: str = "") -> None:
        operator.report_barrier(
            engine=piloting,
            department=DEPT,
            actor=cli_actor(by),
            text=text,
            area=area,
            now=h.day(3),
        )

    with pytest.raises(ReasonRequired):
        report(f"{DEPT}-casual1", text=" ")
    with pytest.raises(operator.Refused, match="not a support area"):
        report(f"{DEPT}-casual1", area="legal")
    with pytest.raises(NotAllowed, match="not in 'd001'"):
        report(OUTSIDER)
    assert rows(piloting, Barrier) == []
