"""Actions from signed links and from the single sign-on identity: each done once, by the
person the link or the proxy names, after a GET page and a POST with a CSRF token; every
refusal leaves the store exactly as it was (the whole store is compared, row by row)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from pilotscale.links import Link, Purpose
from pilotscale.settings import Settings
from pilotscale.web.webapp import create_app
from tests.pilotscale.web.conftest import Web, make_app

ANA = "ana.ruiz"  # an HR champion (named <b>Zoë "@channel" O'Brien</b> in these tests)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF field on the page"
    return found.group(1)


def any_csrf(web: Web) -> str:
    """The client's CSRF field, from any page with a form (a used link's page has none)."""
    return csrf_of(web.client.get(web.link(Purpose.barrier, "pedro.alonso", "hr")).text)


def confirm(client: TestClient, path: str, **fields: str) -> tuple[int, str]:
    """Open the link's page and confirm its form, as a browser does."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    answer = client.post(path, data={"csrf": csrf_of(page.text), **fields})
    return answer.status_code, answer.text


def test_a_champion_acknowledges_once(web: Web) -> None:
    path = web.link(Purpose.acknowledge, ANA, "hr")

    status, text = confirm(web.client, path, choice="accept")

    assert status == 200
    assert "acknowledged the champion role" in text
    department = web.client.get("/d/hr").text
    assert department.count('<span class="pass">✓</span>') == 1
    before = web.dump()
    assert "Nothing more to do here" in web.client.get(path).text
    replay = web.client.post(path, data={"csrf": any_csrf(web), "choice": "accept"})
    assert replay.status_code == 409
    assert "already" in replay.text
    assert web.dump() == before


def test_an_owner_attests_with_evidence_once(web: Web) -> None:
    path = web.link(Purpose.attest, "raul.vega", "sales", "use-cases-developed")

    status, text = confirm(web.client, path, evidence="https://wiki.acme.example/sales-cases")

    assert status == 200, text
    assert "attested" in text
    assert "https://wiki.acme.example/sales-cases" in web.client.get("/d/sales").text
    before = web.dump()
    again = web.client.post(path, data={"csrf": any_csrf(web), "evidence": "again"})
    assert again.status_code == 409
    assert web.dump() == before


def test_attesting_needs_evidence(web: Web) -> None:
    before = web.dump()
    path = web.link(Purpose.attest, "raul.vega", "sales", "use-cases-developed")

    status, text = confirm(web.client, path, evidence="  ")

    assert status == 422
    assert "evidence is required" in text
    assert web.dump() == before


def test_an_approver_rejects_then_approves_each_link_once(web: Web) -> None:
    first = web.link(Purpose.decide, "elena.garcia", "customer-service", "executive-go-ahead")

    rejected, text = confirm(web.client, first, choice="reject", comment="support plan missing")
    assert rejected == 200, text
    department = web.client.get("/d/customer-service").text
    assert "support plan missing" in department  # the rejection is shown with its reason
    after_reject = web.dump()
    replay = web.client.post(first, data={"csrf": any_csrf(web), "choice": "approve"})
    assert replay.status_code == 409
    assert "already" in replay.text
    assert web.dump() == after_reject

    # A later message carries a fresh link: the latest decision counts.
    second = web.link(Purpose.decide, "elena.garcia", "customer-service", "executive-go-ahead")
    approved, text = confirm(web.client, second, choice="approve", comment="plan received")
    assert approved == 200, text
    assert "approval of &#39;executive-go-ahead&#39;" in text


def test_a_rejection_needs_a_comment(web: Web) -> None:
    before = web.dump()
    path = web.link(Purpose.decide, "elena.garcia", "customer-service", "executive-go-ahead")

    status, _ = confirm(web.client, path, choice="reject", comment=" ")

    assert status == 422
    assert web.dump() == before


def test_a_champion_declines_with_a_reason(web: Web) -> None:
    path = web.link(Purpose.acknowledge, ANA, "hr")

    status, text = confirm(web.client, path, choice="decline", reason="moving teams in May")

    assert status == 200, text
    assert "moving teams in May" in web.client.get("/d/hr").text


def test_a_sponsor_pauses_with_a_reason(web: Web) -> None:
    path = web.link(Purpose.operate, "raul.vega", "sales")

    status, text = confirm(web.client, path, choice="pause", reason="quarter close")

    assert status == 200, text
    assert "paused" in text
    assert "quarter close" in web.client.get("/d/sales").text
    before = web.dump()
    assert "this link was used on" in web.client.get(path).text
    again = {"csrf": any_csrf(web), "choice": "resume", "reason": "again"}
    assert web.client.post(path, data=again).status_code == 409
    assert web.dump() == before


def test_a_barrier_is_reported_and_shown(web: Web) -> None:
    path = web.link(Purpose.barrier, "pedro.alonso", "hr")

    status, text = confirm(
        web.client, path, choice="report", text="no time set aside", area="adoption"
    )

    assert status == 200, text
    assert "no time set aside" in web.client.get("/d/hr").text
    before = web.dump()
    again = {"csrf": any_csrf(web), "choice": "report", "text": "again"}
    assert web.client.post(path, data=again).status_code == 409
    assert web.dump() == before


# --------------------------------------------------------------------------- refusals


def test_a_get_on_every_action_url_changes_nothing(web: Web) -> None:
    paths = [
        web.link(Purpose.acknowledge, ANA, "hr"),
        web.link(Purpose.attest, "raul.vega", "sales", "use-cases-developed"),
        web.link(Purpose.decide, "elena.garcia", "customer-service", "executive-go-ahead"),
        web.link(Purpose.operate, "raul.vega", "sales"),
        web.link(Purpose.barrier, "pedro.alonso", "hr"),
        web.link(Purpose.mine, "maria.lopez"),
    ]
    before = web.dump()

    for path in paths:
        page = web.client.get(path)
        assert page.status_code == 200, (path, page.text)
        if path.startswith("/a/"):
            assert "Nothing is recorded until you confirm" in page.text

    assert web.dump() == before


def test_a_tampered_link_is_refused(web: Web) -> None:
    path = web.link(Purpose.acknowledge, ANA, "hr")
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    before = web.dump()

    page = web.client.get(tampered)
    posted = web.client.post(tampered, data={"csrf": csrf_of(web.client.get(path).text)})

    assert page.status_code == posted.status_code == 403
    assert "this link is not valid" in posted.text
    assert web.dump() == before


def test_a_link_for_another_purpose_is_refused(web: Web) -> None:
    token = web.link(Purpose.acknowledge, ANA, "hr").rsplit("/", 1)[1]

    assert web.client.get(f"/a/decide/{token}").status_code == 403
    assert web.client.get(f"/a/nonsense/{token}").status_code == 404


def test_an_expired_link_is_refused(web: Web) -> None:
    path = web.link(Purpose.acknowledge, ANA, "hr")
    csrf = csrf_of(web.client.get(path).text)
    # Links are signed at the machine's time: 15 days after it, the link is 15 days old.
    later = make_app(web.engine, web.signer, clock=datetime.now(UTC) + timedelta(days=15))
    before = web.dump()

    with TestClient(later, cookies=web.client.cookies) as client:
        page = client.get(path)
        posted = client.post(path, data={"csrf": csrf})

    assert page.status_code == posted.status_code == 403
    assert "expired" in posted.text
    assert web.dump() == before


def test_a_link_for_a_phase_the_department_has_left_is_refused(web: Web) -> None:
    token = web.signer.sign(
        Link(Purpose.acknowledge, ANA, "hr", "", visit="2026-10-01T00:00:00.000000+00:00")
    )
    path = f"/a/acknowledge/{token}"
    before = web.dump()

    page = web.client.get(path)
    fresh = web.client.get(web.link(Purpose.acknowledge, ANA, "hr"))
    posted = web.client.post(path, data={"csrf": csrf_of(fresh.text)})

    assert page.status_code == posted.status_code == 409
    assert "earlier stage" in page.text
    assert "earlier stage" in posted.text
    assert web.dump() == before


def test_a_post_without_the_csrf_token_is_refused(web: Web) -> None:
    path = web.link(Purpose.acknowledge, ANA, "hr")
    good = csrf_of(web.client.get(path).text)
    before = web.dump()

    missing = web.client.post(path, data={"choice": "accept"})
    forged = web.client.post(path, data={"choice": "accept", "csrf": good[:-2] + "xx"})
    with TestClient(make_app(web.engine, web.signer)) as stranger:  # no cookie
        no_cookie = stranger.post(path, data={"choice": "accept", "csrf": good})

    for answer in (missing, forged, no_cookie):
        assert answer.status_code == 403, answer.text
    assert "security token" in missing.text
    assert web.dump() == before


def test_a_person_acting_on_a_gate_they_do_not_own_is_refused(web: Web) -> None:
    # Sales' governed data is owned by its content owner (vacant: the lead), not its sponsor.
    path = web.link(Purpose.attest, "raul.vega", "sales", "governed-data")
    before = web.dump()

    status, text = confirm(web.client, path, evidence="I checked")

    assert status == 403
    assert "may not attest" in text
    assert web.dump() == before


def test_a_champion_of_another_department_cannot_acknowledge_here(web: Web) -> None:
    before = web.dump()

    status, text = confirm(web.client, web.link(Purpose.acknowledge, "sofia.ortega", "hr"))

    assert status == 409
    assert "is not a champion of hr" in text
    assert web.dump() == before


def test_a_spoofed_identity_header_is_refused_with_nothing_recorded(web: Web) -> None:
    path = web.link(Purpose.acknowledge, ANA, "hr")
    csrf = csrf_of(web.client.get(path).text)
    spoof = {"X-Forwarded-Email": "maria.lopez@acme.example"}
    before = web.dump()

    on_link = web.client.post(path, data={"csrf": csrf, "choice": "accept"}, headers=spoof)
    on_page = web.client.post(
        "/d/sales/act/attest",
        data={"csrf": csrf, "gate": "budget-at-scale", "evidence": "x"},
        headers=spoof,
    )

    assert on_link.status_code == on_page.status_code == 403
    assert "only accepted from the single sign-on proxy" in on_page.text
    assert web.dump() == before


# --------------------------------------------------------------------------- single sign-on


def test_a_signed_in_sponsor_attests_from_the_department_page(web: Web) -> None:
    who = {"X-Forwarded-Email": "raul.vega@acme.example"}
    page = web.proxied.get("/d/sales", headers=who)
    visit = re.search(r'name="visit" value="([^"]+)"', page.text)
    assert visit

    answer = web.proxied.post(
        "/d/sales/act/attest",
        headers=who,
        data={
            "csrf": csrf_of(page.text),
            "gate": "use-cases-developed",
            "visit": visit.group(1),
            "evidence": "https://wiki.acme.example/cases",
        },
    )

    assert answer.status_code == 200, answer.text
    assert "https://wiki.acme.example/cases" in web.proxied.get("/d/sales", headers=who).text


def test_acting_from_the_page_without_single_sign_on_is_refused(web: Web) -> None:
    page = web.client.get(web.link(Purpose.acknowledge, ANA, "hr"))
    before = web.dump()

    answer = web.client.post(
        "/d/hr/act/acknowledge", data={"csrf": csrf_of(page.text), "choice": "accept"}
    )

    assert answer.status_code == 403
    assert web.dump() == before


@pytest.mark.parametrize("purpose", ["mine", "unknown"])
def test_only_action_purposes_have_action_pages(web: Web, purpose: str) -> None:
    assert web.client.get(f"/a/{purpose}/x").status_code == 404


def test_someone_who_is_not_an_approver_cannot_approve(web: Web) -> None:
    path = web.link(Purpose.decide, "raul.vega", "customer-service", "executive-go-ahead")
    before = web.dump()

    status, text = confirm(web.client, path, choice="approve", comment="sure")

    assert status == 403
    assert "is not an approver" in text
    assert web.dump() == before


def test_the_csrf_cookie_is_secure_when_the_app_is_served_over_https(web: Web) -> None:
    app = create_app(
        engine=web.engine,
        signer=web.signer,
        settings=Settings(base_url="https://pilotscale.acme.example"),
    )
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get(web.link(Purpose.acknowledge, ANA, "hr"))

    cookie = page.headers["set-cookie"].lower()
    assert "secure" in cookie
    assert "samesite=strict" in cookie
    assert "httponly" in cookie
