"""A person named <b>Zoë "@channel" O'Brien</b> and a department titled with <script> are
text on every page; the link signing key is in no page, no log line and no store row."""

from __future__ import annotations

import logging
import re

import pytest

from pilotscale.links import Purpose
from tests.pilotscale.web.conftest import KEY, NASTY_NAME, NASTY_TITLE, Web

ANA = "ana.ruiz"
RAW = ("<script>", "<b>Zoë", "alert(1)</script>")
ESCAPED_TITLE = "Human &lt;script&gt;alert(1)&lt;/script&gt; Resources"
ESCAPED_NAME = "&lt;b&gt;Zoë &#34;@channel&#34; O&#39;Brien&lt;/b&gt;"


def every_page(web: Web) -> dict[str, str]:
    """Each page a person can see, with the champion and the department in it."""
    ack = web.link(Purpose.acknowledge, ANA, "hr")
    pages = {
        "board": web.client.get("/").text,
        "department": web.client.get("/d/hr").text,
        "department, signed in": web.proxied.get(
            "/d/hr", headers={"X-Forwarded-Email": "ana.ruiz@acme.example"}
        ).text,
        "my actions (link)": web.client.get(web.link(Purpose.mine, ANA)).text,
        "my actions (sign-on)": web.proxied.get(
            "/me", headers={"X-Forwarded-Email": "ana.ruiz@acme.example"}
        ).text,
        "action": web.client.get(ack).text,
        "report": web.client.get("/report").text,
        "not found": web.client.get("/d/%3Cscript%3E").text,
    }
    csrf = re.search(r'name="csrf" value="([^"]+)"', pages["action"])
    assert csrf
    pages["done"] = web.client.post(ack, data={"csrf": csrf.group(1), "choice": "accept"}).text
    pages["department after"] = web.client.get("/d/hr").text
    pages["refused"] = web.client.post(ack, data={"csrf": csrf.group(1)}).text
    return pages


def test_names_and_titles_render_as_text_on_every_page(web: Web) -> None:
    pages = every_page(web)

    for name, page in pages.items():
        body = page.split("</style>", 1)[-1]
        for raw in RAW:
            assert raw not in body, f"{raw!r} unescaped on the {name} page"
    for name in ("board", "department", "my actions (link)", "action", "report", "done"):
        assert ESCAPED_TITLE in pages[name], name
    for name in ("department after", "my actions (link)", "action", "done", "refused"):
        assert ESCAPED_NAME in pages[name], name
    assert "&lt;script&gt;" in pages["not found"]
    assert NASTY_NAME not in "".join(pages.values())
    assert NASTY_TITLE not in "".join(pages.values())


def test_evidence_is_text_too(web: Web) -> None:
    path = web.link(Purpose.attest, "raul.vega", "sales", "use-cases-developed")
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.client.get(path).text)
    assert csrf
    web.client.post(path, data={"csrf": csrf.group(1), "evidence": "<img src=x onerror=alert(1)>"})

    page = web.client.get("/d/sales").text

    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page


def test_the_signing_key_is_in_no_page_log_or_row(
    web: Web, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)

    pages = every_page(web)
    pages["refused link"] = web.client.get("/a/acknowledge/not-a-token").text

    for name, page in pages.items():
        assert KEY not in page, name
    out, err = capfd.readouterr()
    assert KEY not in caplog.text + out + err
    assert KEY not in web.dump()
    assert KEY not in repr(web.signer)
    assert KEY.encode() not in web.db_path.read_bytes()
