"""Separation of duties, table by table: who may act, for whom, and what is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pilotscale.core.actors import Actor, Source
from pilotscale.core.duties import (
    OutOfDate,
    ReasonRequired,
    SelfApproval,
    acting,
    forbid_self_approval,
    require_current_visit,
)
from pilotscale.core.permissions import (
    NotAllowed,
    allow_acknowledge,
    allow_attest,
    allow_decide,
    allow_operate,
    allow_report_barrier,
)
from pilotscale.links import visit_key
from pilotscale.plan.schema import ApprovalGate, Plan
from tests.plans import DEPUTY, EXEC, LEAD, OUTSIDER, loaded, plan_dict

ENTERED = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return loaded(plan_dict(2)).plan


def cli(person: str, on_behalf_of: str | None = None, reason: str = "") -> Actor:
    return Actor(person=person, source=Source.cli, on_behalf_of=on_behalf_of, reason=reason)


# --------------------------------------------------------------------------- acting


@pytest.mark.parametrize(
    ("actor", "person", "subject", "source", "acted_by"),
    [
        (cli("d001-champ1"), "d001-champ1", "d001-champ1", "cli", ""),
        (cli("d001-champ1@example.com"), "d001-champ1", "d001-champ1", "cli", ""),
        (Actor("exec", Source.link), EXEC, EXEC, "link", ""),
        (Actor("exec", Source.proxy), EXEC, EXEC, "proxy", ""),
        (cli(LEAD, "d001-champ1", "by phone"), LEAD, "d001-champ1", "on_behalf", LEAD),
        (cli(DEPUTY, "compliance", "in the meeting"), DEPUTY, "compliance", "on_behalf", DEPUTY),
        # Naming oneself is acting for oneself, reason or not.
        (cli(LEAD, LEAD), LEAD, LEAD, "cli", ""),
    ],
)
def test_who_acts_and_what_is_recorded(
    plan: Plan, actor: Actor, person: str, subject: str, source: str, acted_by: str
) -> None:
    act = acting(plan, actor)

    assert (act.person.id, act.subject.id) == (person, subject)
    assert (act.identity_source, act.acted_by) == (source, acted_by)
    assert act.on_behalf is bool(acted_by)


@pytest.mark.parametrize(
    ("actor", "refusal", "says"),
    [
        (cli(LEAD, "d001-champ1"), ReasonRequired, "--reason"),
        (cli(LEAD, "d001-champ1", "   "), ReasonRequired, "--reason"),
        (cli("d001-sponsor", "d001-champ1", "she asked me"), NotAllowed, "only a lead"),
        (cli(EXEC, "compliance", "urgent"), NotAllowed, "only a lead"),
        (cli(OUTSIDER, LEAD, "x"), NotAllowed, "only a lead"),
        (cli("nobody@example.com"), NotAllowed, "not a person in the plan"),
        (cli(LEAD, "nobody@example.com", "x"), NotAllowed, "not a person in the plan"),
    ],
)
def test_acting_on_behalf_needs_a_lead_and_a_reason(
    plan: Plan, actor: Actor, refusal: type[Exception], says: str
) -> None:
    with pytest.raises(refusal, match=says):
        acting(plan, actor)


# --------------------------------------------------------------------------- who may do what


@pytest.mark.parametrize(
    ("check", "person", "allowed"),
    [
        # attest: the gate's owner only (use-cases: the sponsor; guardrails: governance)
        ("attest use-cases", "d001-sponsor", True),
        ("attest use-cases", LEAD, False),  # the lead no longer attests for others
        ("attest use-cases", "d002-sponsor", False),
        ("attest guardrails", "compliance", True),
        ("attest guardrails", LEAD, False),
        ("attest guardrails", "d001-sponsor", False),
        # decide: the listed approvers only (go-ahead: lead, exec)
        ("decide go-ahead", LEAD, True),
        ("decide go-ahead", EXEC, True),
        ("decide go-ahead", DEPUTY, False),
        ("decide go-ahead", "d001-sponsor", False),
        ("decide guardrails", LEAD, False),  # not an approval gate
        # acknowledge: the champion only
        ("acknowledge d001-champ1", "d001-champ1", True),
        ("acknowledge d001-champ1", "d001-champ2", False),
        ("acknowledge d001-champ1", LEAD, False),
        # pause / resume: the department's sponsor or a lead; abort: a lead
        ("pause", "d001-sponsor", True),
        ("resume", "d001-sponsor", True),
        ("abort", "d001-sponsor", False),
        ("pause", "d002-sponsor", False),
        ("pause", DEPUTY, True),
        ("abort", LEAD, True),
        ("pause", EXEC, False),
        # barriers: anyone in the department, its sponsor, champions, support owners, leads
        ("barrier", "d001-casual1", True),
        ("barrier", "d001-champ2", True),
        ("barrier", "knowledge", True),
        ("barrier", DEPUTY, True),
        ("barrier", "d002-casual1", False),
        ("barrier", OUTSIDER, False),
    ],
)
def test_who_may_do_what_for_themself(plan: Plan, check: str, person: str, allowed: bool) -> None:
    action, _, target = check.partition(" ")
    who = plan.person(person)
    checks = {
        "attest": lambda: allow_attest(plan, who, target, "d001"),
        "decide": lambda: allow_decide(plan, who, target),
        "acknowledge": lambda: allow_acknowledge(plan, who, target, "d001"),
        "barrier": lambda: allow_report_barrier(plan, who, "d001"),
    }
    run = checks.get(action, lambda: allow_operate(plan, who, action, "d001"))
    if allowed:
        run()
    else:
        with pytest.raises(NotAllowed):
            run()


def test_a_refused_attestation_says_who_owns_it_and_how_a_lead_enters_it(plan: Plan) -> None:
    with pytest.raises(NotAllowed) as refused:
        allow_attest(plan, plan.person(LEAD), "guardrails", "d001")

    assert "its owner is compliance@example.com" in str(refused.value)
    assert "--on-behalf-of compliance@example.com --reason" in str(refused.value)


# --------------------------------------------------------------------------- self-approval


@pytest.mark.parametrize(
    ("approver", "requested_by", "attested_by", "refused"),
    [
        (EXEC, set(), set(), None),
        (EXEC, {"scheduler"}, {"compliance", "d001-sponsor"}, None),
        (EXEC, {EXEC}, set(), "you moved it into this phase"),
        (LEAD, {LEAD, "d001-sponsor"}, set(), "you moved it into this phase"),
        (LEAD, set(), {LEAD}, "you attested a gate of this phase"),
        (EXEC, {"scheduler"}, {EXEC}, "you attested a gate of this phase"),
    ],
)
def test_an_approver_may_not_approve_what_they_requested_or_attested(
    plan: Plan,
    approver: str,
    requested_by: set[str],
    attested_by: set[str],
    refused: str | None,
) -> None:
    gate = plan.gate("go-ahead")
    assert isinstance(gate, ApprovalGate)

    def check() -> None:
        forbid_self_approval(
            plan,
            plan.person(approver),
            gate=gate,
            department="d001",
            requested_by=requested_by,
            attested_by=attested_by,
        )

    if refused is None:
        check()
        return
    with pytest.raises(SelfApproval, match=refused) as raised:
        check()
    other = EXEC if approver == LEAD else LEAD
    assert f"ask another approver ({other}@example.com)" in str(raised.value)


# --------------------------------------------------------------------------- links' visits


@pytest.mark.parametrize(
    ("visit", "refused"),
    [
        (None, False),  # not from a link
        (visit_key(ENTERED), False),
        (visit_key(ENTERED.replace(tzinfo=None)), False),  # naive is UTC
        (visit_key(ENTERED - timedelta(days=9)), True),  # an earlier visit
        ("", True),
    ],
)
def test_a_link_for_an_earlier_visit_is_out_of_date(visit: str | None, refused: bool) -> None:
    actor = Actor(person=EXEC, source=Source.link, visit=visit)

    def check() -> None:
        require_current_visit(
            actor, department_title="HR", phase="scaling", phase_entered_at=ENTERED
        )

    if not refused:
        check()
        return
    with pytest.raises(OutOfDate) as raised:
        check()
    assert str(raised.value) == (
        "this link was for an earlier stage of HR; it is now in scaling: nothing was recorded"
    )
