"""The links a message carries when it is sent: for whom, for what, bound to what."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pilotscale.core.messages import GROUPED, Job
from pilotscale.engine.message_links import LinkMaker, configured_link_maker, dispatch_context
from pilotscale.links import Link, Purpose, Signer
from pilotscale.settings import get_settings
from tests.notifications.helpers import NOW, gate_held, plan

KEY = "message-links-test-key-0123456789"
BASE = "https://pilotscale.test/"
VISIT = "2026-11-02T09:00:00.000000+00:00"
SIGNER = Signer(KEY)
MAKER = LinkMaker(SIGNER, BASE)
FINANCE = {"name": "finance", "title": "Finance", "headcount": 120, "wave": 0}
LEO = {"id": "leo.lead", "name": "Leo Lead", "email": "leo@example.com", "chat": None}
INES = {"id": "ines.sponsor", "name": "Ines Sponsor", "email": "ines@example.com", "chat": None}


def _recipient(person_id: str) -> dict[str, Any]:
    person = plan().person(person_id)
    return {"id": person.id, "name": person.name, "email": person.email, "kind": "person"}


def _job(event: str, recipient: str, **context: Any) -> Job:
    to = (
        {"id": recipient, "name": "#room", "email": None, "chat": None, "kind": "channel"}
        if recipient.startswith("channel:")
        else _recipient(recipient)
    )
    stored = {"department": FINANCE, "visit": VISIT, **context, "recipient": to}
    return Job("n-1", 1, event, recipient, "email", "subject", stored, NOW, 1)


def _approval(recipient: str, event: str = "approval_requested") -> Job:
    gate = {"gate": "go-ahead", "kind": "approval", "owner": LEO}
    return _job(event, recipient, gate=gate, approvers=[INES, LEO])


def _read(url: str) -> Link:
    path = url.removeprefix(BASE.rstrip("/"))
    if path.startswith("/me/"):
        return SIGNER.read(Purpose.mine, path.removeprefix("/me/"))
    _, _, purpose, token = path.split("/", 3)
    return SIGNER.read(Purpose(purpose), token)


def test_an_approver_gets_a_decide_link_for_that_gate_and_visit() -> None:
    links = dispatch_context(_approval("ines.sponsor"), plan(), MAKER)["links"]

    assert links["board"] == "https://pilotscale.test/"
    assert links["department"] == "https://pilotscale.test/d/finance"
    decide = _read(links["decide"])
    assert (decide.purpose, decide.person, decide.department, decide.gate, decide.visit) == (
        Purpose.decide,
        "ines.sponsor",
        "finance",
        "go-ahead",
        VISIT,
    )
    mine = _read(links["mine"])
    assert (mine.person, mine.department, mine.gate) == ("ines.sponsor", "", "")
    assert "attest" not in links
    assert "operate" not in links


@pytest.mark.parametrize("event", ["approval_reminder", "approval_escalation"])
def test_reminders_and_escalations_carry_the_decide_link_only_to_approvers(event: str) -> None:
    assert "decide" in dispatch_context(_approval("leo.lead", event), plan(), MAKER)["links"]
    not_approver = dispatch_context(_approval("it.desk", event), plan(), MAKER)["links"]
    assert "decide" not in not_approver
    assert "mine" in not_approver


def test_a_champion_welcome_asks_to_acknowledge_and_offers_a_barrier_link() -> None:
    links = dispatch_context(_job("champion_welcome", "fran.champion"), plan(), MAKER)["links"]

    ack = _read(links["acknowledge"])
    assert (ack.person, ack.department, ack.gate, ack.visit) == (
        "fran.champion",
        "finance",
        "",
        VISIT,
    )
    assert _read(links["barrier"]).purpose is Purpose.barrier


def test_only_the_owner_of_a_held_attestation_gate_gets_an_attest_link() -> None:
    def held(recipient: str, kind: str, owner: str) -> dict[str, str]:
        gate = {**gate_held(recipient).context["gate"], "kind": kind, "owner": _recipient(owner)}
        job = _job("gate_held", recipient, gate=gate)
        return dict(dispatch_context(job, plan(), MAKER)["links"])

    attest = _read(held("it.desk", "attestation", "it.desk")["attest"])
    assert (attest.person, attest.gate, attest.visit) == ("it.desk", "weekly-active", VISIT)
    assert "attest" not in held("leo.lead", "attestation", "it.desk")  # not theirs
    assert "attest" not in held("it.desk", "metric", "it.desk")  # nothing to attest


def test_a_list_of_open_items_carries_each_items_own_links() -> None:
    attestation = {"gate": "guardrails", "kind": "attestation", "owner": _recipient("leo.lead")}
    approval = {"gate": "go-ahead", "kind": "approval", "owner": _recipient("leo.lead")}
    items = [
        {"kind": "pending", "department": FINANCE, "gate": attestation, "visit": VISIT},
        {
            "kind": "approval",
            "department": FINANCE,
            "gate": approval,
            "approvers": [INES, LEO],
            "visit": VISIT,
        },
        {"kind": "stuck", "department": FINANCE, "gate": approval, "visit": VISIT},
        {"kind": "pending", "department": FINANCE, "gate": attestation},  # no visit stored
    ]
    stored = {"items": items, "recipient": _recipient("leo.lead")}
    job = Job("n-1", 1, GROUPED, "leo.lead", "email", "subject", stored, NOW, 1)

    context = dispatch_context(job, plan(), MAKER)

    per_item = context["item_links"]
    assert [sorted(links) for links in per_item] == [
        ["attest", "department"],
        ["decide", "department"],
        ["department"],  # a stuck gate asks its sponsor or lead to follow up, not to act
        ["department"],
    ]
    attest, decide = _read(per_item[0]["attest"]), _read(per_item[1]["decide"])
    assert (attest.person, attest.department, attest.gate, attest.visit) == (
        "leo.lead",
        "finance",
        "guardrails",
        VISIT,
    )
    assert (decide.purpose, decide.gate) == (Purpose.decide, "go-ahead")
    assert "department" not in context["links"]  # the list is about several
    assert dispatch_context(job, plan(), None)["item_links"] == []


@pytest.mark.parametrize("event", ["department_blocked", "monitoring_regressed"])
def test_a_blocked_department_lets_its_sponsor_operate_and_not_the_lead(event: str) -> None:
    sponsor = dispatch_context(_job(event, "ines.sponsor"), plan(), MAKER)
    lead = dispatch_context(_job(event, "leo.lead"), plan(), MAKER)

    assert _read(sponsor["links"]["operate"]).person == "ines.sponsor"
    assert "operate" not in lead["links"]
    assert (sponsor["operator"], lead["operator"]) == (False, True)
    assert lead["program_lead"] == {"name": "Leo Lead", "email": "leo@example.com"}


def test_a_channel_gets_the_department_and_board_pages_and_nothing_signed() -> None:
    job = _job("department_advanced", "channel:finance-chat")

    context = dispatch_context(job, plan(), MAKER)

    assert context["links"] == {
        "board": "https://pilotscale.test/",
        "department": "https://pilotscale.test/d/finance",
    }
    assert context["operator"] is False


def test_a_message_queued_without_a_visit_gets_no_action_link() -> None:
    job = _approval("ines.sponsor")
    job = Job(**{**job.__dict__, "context": {**job.context, "visit": ""}})

    links = dispatch_context(job, plan(), MAKER)["links"]

    assert "decide" not in links
    assert "department" in links
    assert "mine" in links


def test_without_a_link_maker_there_are_no_links() -> None:
    context = dispatch_context(_approval("ines.sponsor"), plan(), None)

    assert context["links"] == {}
    assert context["program_lead"]["email"] == "leo@example.com"


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("PILOTSCALE_BASE_URL", "PILOTSCALE_LINK_SECRET", "PILOTSCALE_LINK_SECRET_BLOCK"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def test_links_need_both_a_base_url_and_a_key(settings_env: pytest.MonkeyPatch) -> None:
    assert configured_link_maker() is None
    settings_env.setenv("PILOTSCALE_BASE_URL", "https://pilotscale.acme.example")
    get_settings.cache_clear()
    assert configured_link_maker() is None
    settings_env.setenv("PILOTSCALE_LINK_SECRET", KEY)
    get_settings.cache_clear()

    maker = configured_link_maker()

    assert maker is not None
    assert maker.base_url == "https://pilotscale.acme.example"
    assert KEY not in repr(maker)
    settings_env.delenv("PILOTSCALE_BASE_URL")
    get_settings.cache_clear()
    assert configured_link_maker() is None


def test_a_key_too_short_means_no_links_not_a_failed_dispatch(
    settings_env: pytest.MonkeyPatch,
) -> None:
    settings_env.setenv("PILOTSCALE_BASE_URL", "https://pilotscale.acme.example")
    settings_env.setenv("PILOTSCALE_LINK_SECRET", "short")
    get_settings.cache_clear()

    assert configured_link_maker() is None
