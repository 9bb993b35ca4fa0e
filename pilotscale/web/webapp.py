"""`create_app`: the web app's routes. Reading pages are open (read only); every change
goes through `pilotscale.web.actions`, from a signed link or a trusted single sign-on
identity, by POST with a CSRF token: a GET never changes anything (mail scanners
prefetch links)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import Engine, text
from sqlmodel import Session

from pilotscale import links
from pilotscale.core.permissions import identify, may_operate
from pilotscale.engine.department_view import read_department
from pilotscale.engine.pending import PendingAction, pending_actions
from pilotscale.links import Link, Purpose, Signer
from pilotscale.refusal import Forbidden, Missing, Refusal
from pilotscale.report.data import read_report
from pilotscale.report.html import html_parts
from pilotscale.settings import Settings, get_settings
from pilotscale.store.queries import NotFound
from pilotscale.store.snapshot import load_view
from pilotscale.web import actions
from pilotscale.web.board import Board
from pilotscale.web.board_cache import BoardCache
from pilotscale.web.csrf import COOKIE, FIELD, Csrf
from pilotscale.web.rendering import NO_STORE, page_text, render
from pilotscale.web.sso import proxy_identity, refuse_spoofed

REFRESH_SECONDS = 30


class NoLinks(Forbidden):
    """No link key is configured: no link can be verified."""


def create_app(
    *,
    engine: Engine | None = None,
    signer: Signer | None = None,
    clock: Callable[[], datetime] | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The web app on `engine` (default: the configured store), verifying links with
    `signer` (default: the configured key; none: every link is refused), `clock` for now."""
    settings = settings or get_settings()
    if engine is None:
        from pilotscale.db import get_engine

        engine = get_engine()
    if signer is None:
        signer = links.from_settings(settings)
    now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
    proxies = list(settings.trusted_proxies)
    secure = (settings.base_url or "").startswith("https://")
    # Without a link key there are no links, but single sign-on forms still need CSRF
    # tokens: a key of this process's own then (forms opened before a restart expire).
    csrf = Csrf(signer.derived_key("csrf") if signer else secrets.token_bytes(32), secure=secure)
    store: Engine = engine

    app = FastAPI(title="pilotscale", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> Response:
        known = exc.known if isinstance(exc, NotFound) and exc.kind == "department" else []
        heading = "Not found" if isinstance(exc, Missing) else "Refused"
        return render(
            "refused.html.j2",
            status_code=exc.http_status,
            viewer=proxy_identity(request, proxies),
            heading=heading,
            message=exc.message,
            known=known,
        )

    def viewer_of(request: Request) -> str | None:
        return proxy_identity(request, proxies)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:  # none: an empty answer, not a 404 in every browser console
        return Response(status_code=204)

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        with Session(store) as session:
            session.execute(text("SELECT 1"))
        return JSONResponse({"ok": True}, headers=NO_STORE)

    boards = BoardCache()

    @app.get("/", response_class=HTMLResponse)
    def board() -> Response:
        # The same page for everyone (it names no viewer), so it is kept between requests.
        def page(data: Board) -> bytes:
            text = page_text("board.html.j2", zone=data.timezone, refresh=REFRESH_SECONDS, b=data)
            return text.encode()

        body = boards.page(engine=store, now=now(), render=page)
        return HTMLResponse(body, headers=NO_STORE)

    @app.get("/d/{department}", response_class=HTMLResponse)
    def department(request: Request, department: str) -> Response:
        page = read_department(engine=store, department=department, now=now())
        viewer = viewer_of(request)
        forms: list[tuple[str, str, str]] = []
        cookie = ""
        if viewer is not None:
            forms = _forms_for(viewer, department, page.department.title)
            cookie = csrf.cookie_value(request.cookies.get(COOKIE))
        response = render(
            "department.html.j2",
            zone=page.timezone,
            viewer=viewer,
            p=page,
            forms=forms,
            csrf=csrf.field_value(cookie) if cookie else "",
            visit=links.visit_key(page.department.phase_entered_at),
            act_url=lambda purpose: f"/d/{department}/act/{purpose}",
        )
        if cookie:
            csrf.set_cookie(response, cookie)
        return response

    def _forms_for(viewer: str, department: str, title: str) -> list[tuple[str, str, str]]:
        with Session(store, expire_on_commit=False) as session:
            plan = load_view(session=session).plan
        person = identify(plan, viewer)
        out = [
            (a.purpose.value, a.gate, a.gate_title or title)
            for a in pending_actions(engine=store, person=person.id, now=now())
            if a.department == department
        ]
        try:
            may_operate(plan, person.id, "pause", department)
            out.append((Purpose.operate.value, "", title))
        except Forbidden:
            pass
        out.append((Purpose.barrier.value, "", title))
        return out

    @app.post("/d/{department}/act/{purpose}", response_class=HTMLResponse)
    async def act_signed_in(request: Request, department: str, purpose: str) -> Response:
        refuse_spoofed(request, proxies)
        viewer = viewer_of(request)
        if viewer is None:
            raise Forbidden(
                "acting from this page needs the company's single sign-on; use the link in "
                "your message instead"
            )
        form = await _form(request)
        chosen = _purpose(purpose)
        message = actions.perform(
            engine=store,
            purpose=chosen,
            actor=actions.proxy_actor(viewer, visit=form.get("visit", "")),
            department=department,
            gate=form.get("gate", ""),
            form=form,
            now=now(),
        )
        return render("done.html.j2", viewer=viewer, message=message, department=department)

    @app.get("/me", response_class=HTMLResponse)
    def me(request: Request) -> Response:
        viewer = viewer_of(request)
        if viewer is None:
            return render("me.html.j2", person_name="", actions=[])
        return _mine(viewer, viewer, lambda a: f"/d/{a.department}#your-actions")

    @app.get("/me/{token}", response_class=HTMLResponse)
    def me_link(request: Request, token: str) -> Response:
        link = _signer().read(Purpose.mine, token, now=now())
        key = _signer()

        def href(a: PendingAction) -> str:
            signed = key.sign(Link(a.purpose, link.person, a.department, a.gate, a.visit))
            return links.action_path(a.purpose, signed)

        return _mine(link.person, viewer_of(request), href)

    def _mine(person: str, viewer: str | None, href: Callable[[PendingAction], str]) -> Response:
        found = pending_actions(engine=store, person=person, now=now())
        with Session(store, expire_on_commit=False) as session:
            name = identify(load_view(session=session).plan, person).name
        rows = [{**vars(a), "href": href(a)} for a in found]
        return render("me.html.j2", viewer=viewer, person_name=name, actions=rows)

    @app.get("/report", response_class=HTMLResponse)
    def report() -> Response:
        data = read_report(engine=store, program=None, now=now())
        return HTMLResponse("".join(html_parts(data)), headers=NO_STORE)

    def _signer() -> Signer:
        if signer is None:
            raise NoLinks(
                "links are not configured on this server (no PILOTSCALE_LINK_SECRET); ask "
                "the program lead"
            )
        return signer

    @app.get("/a/{purpose}/{token}", response_class=HTMLResponse)
    def action_page(request: Request, purpose: str, token: str) -> Response:
        chosen = _purpose(purpose)
        link = _signer().read(chosen, token, now=now())
        facts = actions.facts(
            engine=store,
            purpose=chosen,
            actor=actions.link_actor(link),
            department=link.department,
            gate=link.gate,
            now=now(),
        )
        cookie = csrf.cookie_value(request.cookies.get(COOKIE))
        response = render(
            "action.html.j2",
            viewer=viewer_of(request),
            heading=_HEADINGS[chosen],
            f=facts,
            post_url=links.action_path(chosen, token),
            csrf=csrf.field_value(cookie),
        )
        csrf.set_cookie(response, cookie)
        return response

    @app.post("/a/{purpose}/{token}", response_class=HTMLResponse)
    async def action_post(request: Request, purpose: str, token: str) -> Response:
        refuse_spoofed(request, proxies)
        chosen = _purpose(purpose)
        link = _signer().read(chosen, token, now=now())
        form = await _form(request)
        message = actions.perform(
            engine=store,
            purpose=chosen,
            actor=actions.link_actor(link),
            department=link.department,
            gate=link.gate,
            form=form,
            now=now(),
        )
        return render(
            "done.html.j2", viewer=viewer_of(request), message=message, department=link.department
        )

    async def _form(request: Request) -> dict[str, str]:
        """The posted fields, after the CSRF check (nothing is read before it passes)."""
        raw = await request.form()
        form = {k: v for k, v in raw.items() if isinstance(v, str)}
        csrf.check(cookie=request.cookies.get(COOKIE), field=form.get(FIELD))
        return form

    return app


_HEADINGS = {
    Purpose.acknowledge: "Accept the champion role",
    Purpose.attest: "Attest a gate",
    Purpose.decide: "Approve or reject a gate",
    Purpose.operate: "Pause or resume a department",
    Purpose.barrier: "Report a barrier",
}


def _purpose(value: str) -> Purpose:
    try:
        chosen = Purpose(value)
    except ValueError:
        chosen = None
    if chosen is None or chosen not in actions.ACTIONS:
        raise Missing(
            f"no action '{value}' (actions: {', '.join(p.value for p in actions.ACTIONS)})"
        )
    return chosen
