"""Every reading page renders from a real store: the board, a department, my actions, the
report, health; unknown names get a 404 page that lists the known ones."""

from __future__ import annotations

from markupsafe import escape

from pilotscale.links import Purpose
from tests.pilotscale.web.conftest import NOW, PROXY, Web


def test_the_board_shows_phases_waves_and_held_departments(web: Web) -> None:
    page = web.client.get("/")

    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<meta http-equiv="refresh" content="30">' in page.text
    assert page.text.count('<tr data-department="') == 5
    assert 'id="waves-table"' in page.text
    assert "Champions identified, onboarded and connected" in page.text  # a holding gate
    assert "Jorge Navarro" in page.text  # its owner
    assert 'id="held-table"' in page.text
    assert "wave 2 starts when every wave-1 department has reached" in page.text


def test_the_board_and_status_read_the_same_verdicts(web: Web) -> None:
    from sqlmodel import Session

    from pilotscale.engine.verdicts import read_verdicts
    from pilotscale.store.snapshot import load_view
    from tests.pilotscale.web.conftest import NOW

    with Session(web.engine) as session:
        view = load_view(session=session, owners_only=True)
        verdicts = read_verdicts(session=session, view=view, now=NOW)
    page = web.client.get("/").text
    for verdict in verdicts.values():
        for gate in verdict.holding:
            assert str(escape(gate.title)) in page


def test_a_department_page_shows_gates_champions_training_approvals_history(web: Web) -> None:
    page = web.client.get("/d/customer-service")

    assert page.status_code == 200
    for section in ("gates", "champions", "training", "approvals", "attestations", "history"):
        assert f'id="{section}"' in page.text
    assert "Program sponsor and lead approve the department as operating" in page.text
    assert "pending" in page.text  # both approvals still wanted
    assert "re-check the pilot before operating" in page.text  # the rollback in history
    assert "<form" not in page.text  # read only without single sign-on


def test_the_department_pages_history_shows_the_programs_pause(web: Web) -> None:
    """Why a department waited is on its page: the program's pause, with who and why."""
    from datetime import timedelta

    from pilotscale.engine.acting import cli_actor
    from pilotscale.engine.lead_actions import set_program_paused

    lead = cli_actor("maria.lopez")
    set_program_paused(engine=web.engine, paused=True, actor=lead, reason="audit week", now=NOW)
    set_program_paused(
        engine=web.engine, paused=False, actor=lead, reason="audit done", now=NOW + timedelta(1)
    )

    page = web.client.get("/d/customer-service").text
    history = page[page.index('id="history-table"') :]

    assert "<td>program pause</td>" in history
    assert "<td>audit week</td>" in history
    assert "(None)" not in history  # a pause changes no phase: no empty status shown


def test_an_unknown_department_is_a_404_listing_the_known_ones(web: Web) -> None:
    page = web.client.get("/d/finance")

    assert page.status_code == 404
    assert "unknown department &#39;finance&#39;" in page.text
    assert 'href="/d/sales"' in page.text


def test_my_actions_from_a_signed_link(web: Web) -> None:
    page = web.client.get(web.link(Purpose.mine, "maria.lopez"))

    assert page.status_code == 200
    assert "What María López must do now" in page.text
    assert "Approve or reject" in page.text  # customer service's go-ahead
    assert "Budget model works at full scale" in page.text
    assert 'href="/a/decide/' in page.text
    assert 'href="/a/attest/' in page.text


def test_my_actions_from_the_single_sign_on_identity(web: Web) -> None:
    page = web.proxied.get("/me", headers={"X-Forwarded-Email": "raul.vega@acme.example"})

    assert "What Raúl Vega must do now" in page.text
    assert "Use cases developed for this team" in page.text
    assert 'href="/d/sales#your-actions"' in page.text


def test_a_spoofed_identity_is_ignored_for_reading(web: Web) -> None:
    page = web.client.get("/me", headers={"X-Forwarded-Email": "raul.vega@acme.example"})

    assert "Raúl Vega" not in page.text
    assert "single sign-on" in page.text


def test_the_department_page_offers_forms_to_a_signed_in_person(web: Web) -> None:
    page = web.proxied.get("/d/sales", headers={"X-Forwarded-Email": "raul.vega@acme.example"})

    assert 'action="/d/sales/act/attest"' in page.text
    assert 'action="/d/sales/act/operate"' in page.text  # the sponsor may pause
    assert 'name="csrf"' in page.text
    assert "samesite=strict" in page.headers["set-cookie"].lower()
    assert "httponly" in page.headers["set-cookie"].lower()
    assert PROXY  # the request came from the trusted proxy address


def test_the_report_is_served_live(web: Web) -> None:
    page = web.client.get("/report")

    assert page.status_code == 200
    assert '<table id="phase-board">' in page.text


def test_health(web: Web) -> None:
    assert web.client.get("/healthz").json() == {"ok": True}


def test_the_board_names_states_as_the_report_does(web: Web) -> None:
    from sqlmodel import Session

    from pilotscale.report.data import build_report
    from pilotscale.report.headline import states
    from pilotscale.store.snapshot import load_view
    from tests.pilotscale.web.conftest import NOW

    with Session(web.engine) as session:
        words = states(build_report(session=session, view=load_view(session=session), now=NOW))
    page = web.client.get("/").text
    rows = {chunk.split('"', 1)[0]: chunk for chunk in page.split('<tr data-department="')[1:]}
    assert set(rows) == set(words)
    for name, word in words.items():
        assert f">{word}</" in rows[name], name
    assert ">active<" not in page


def test_a_department_page_shows_a_waived_gate(web: Web) -> None:
    from datetime import timedelta

    from sqlmodel import Session

    from pilotscale.engine.acting import cli_actor
    from pilotscale.engine.lead_actions import waive
    from pilotscale.engine.verdicts import read_verdicts
    from pilotscale.store.snapshot import load_view

    with Session(web.engine) as session:
        view = load_view(session=session)
        verdict = read_verdicts(session=session, view=view, now=NOW, names=["hr"])["hr"]
    gate = verdict.holding[0].gate
    waive(
        engine=web.engine,
        department="hr",
        gate=gate,
        actor=cli_actor(view.plan.program.lead),
        reason="agreed at the steering meeting",
        until=NOW + timedelta(days=10),
        now=NOW - timedelta(minutes=1),
    )
    page = web.client.get("/d/hr")

    assert page.status_code == 200
    row = page.text.split(f'data-gate="{gate}"', 1)[1].split("</tr>", 1)[0]
    assert "waived until" in row
    assert "agreed at the steering meeting" in row
