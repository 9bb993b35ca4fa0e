"""Templates: every event renders, values are escaped for their medium, overrides win."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pilotscale.notifications.catalog import (
    CHAT,
    EMAIL_HTML,
    EMAIL_TEXT,
    EVENTS,
    PARTS,
    template_name,
)
from pilotscale.notifications.filters import FILTERS
from pilotscale.notifications.render import Renderer, TemplateProblem
from pilotscale.notifications.samples import SAMPLES, without_links

HOSTILE = "<script>alert(1)</script>"


def _with_name(event: str, name: str) -> dict[str, object]:
    context = dict(SAMPLES[event])
    context["recipient"] = {**context["recipient"], "name": name}  # type: ignore[dict-item]
    return context


@pytest.mark.parametrize("event", EVENTS)
def test_every_event_renders_every_part(event: str) -> None:
    renderer = Renderer()
    email = renderer.email(event, SAMPLES[event])
    chat = renderer.chat(event, SAMPLES[event])

    assert email.subject
    assert "\n" not in email.subject
    assert "<html" in email.html
    assert "</html>" in email.html
    assert SAMPLES[event]["recipient"]["name"] in email.text  # type: ignore[index]
    assert chat.startswith("**")
    assert "{{" not in email.html + email.text + chat


@pytest.mark.parametrize("event", EVENTS)
def test_every_message_links_to_its_department_or_the_board_and_none_without_links(
    event: str,
) -> None:
    renderer = Renderer()
    links = SAMPLES[event]["links"]
    page = links.get("department", links["board"])
    email, chat = renderer.email(event, SAMPLES[event]), renderer.chat(event, SAMPLES[event])
    for part in (email.html, email.text, chat):
        assert page in part
        assert links["mine"] in part
        for purpose in ("decide", "acknowledge", "attest", "operate", "barrier"):
            if purpose in links:
                assert links[purpose] in part
    for operator in (False, True):
        bare = without_links(event, operator=operator)
        email, chat = renderer.email(event, bare), renderer.chat(event, bare)
        for part in (email.html, email.subject, email.text, chat):
            assert "pilotscale.acme.example" not in part


def test_every_event_has_all_four_packaged_templates() -> None:
    renderer = Renderer()
    missing = [
        template_name(e, p)
        for e in EVENTS
        for p in PARTS
        if not Path(renderer.filename(template_name(e, p))).is_file()
    ]
    assert missing == []


def test_html_is_escaped_and_text_is_verbatim() -> None:
    renderer = Renderer()
    email = renderer.email("gate_held", _with_name("gate_held", HOSTILE))

    assert HOSTILE not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert f"Hi {HOSTILE}," in email.text


def test_chat_escapes_markdown_and_neutralises_mentions() -> None:
    renderer = Renderer()
    context = _with_name("gate_held", "@channel")
    context["gate"] = {
        **SAMPLES["gate_held"]["gate"],  # type: ignore[dict-item]
        "reason": f"ask {HOSTILE} or @here, see [docs](javascript:alert(1)) *now*",
    }
    chat = renderer.chat("gate_held", context)

    assert "@\u200bhere" in chat
    assert "@here" not in chat
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in chat
    assert "\\[docs\\]\\(javascript:alert\\(1\\)\\)" in chat
    assert "\\*now\\*" in chat


def test_chat_links_keep_safe_urls_and_drop_others() -> None:
    renderer = Renderer()
    context = dict(SAMPLES["champion_welcome"])
    context["resources"] = [
        {"title": "Playbook", "url": "https://intranet.acme.example/a b(1)"},
        {"title": "Evil", "url": "javascript:alert(1)"},
    ]
    chat = renderer.chat("champion_welcome", context)
    html = renderer.render(template_name("champion_welcome", EMAIL_HTML), context)

    assert "[Playbook](https://intranet.acme.example/a%20b%281%29)" in chat
    assert "javascript" not in chat
    assert "javascript" not in html
    assert "Evil" in chat


def test_a_user_template_overrides_one_file_only(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / "subject.txt").write_text("HELD {{ gate.title }}\n")
    renderer = Renderer(tmp_path)

    email = renderer.email("gate_held", SAMPLES["gate_held"])

    assert email.subject == "HELD Power users use it every week"
    assert "https://pilotscale.acme.example/d/hr" in email.text  # the packaged body


def test_a_subject_cannot_inject_a_header(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / "subject.txt").write_text("Hi\r\nBcc: all@acme.example\n")

    subject = Renderer(tmp_path).subject("gate_held", SAMPLES["gate_held"])

    assert subject == "Hi Bcc: all@acme.example"


def test_an_undefined_variable_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    path = tmp_path / "gate_held" / CHAT
    path.write_text("line one\n{{ gate.ownr.name }}\n")

    with pytest.raises(TemplateProblem) as caught:
        Renderer(tmp_path).chat("gate_held", SAMPLES["gate_held"])

    assert str(caught.value) == f"{path}:2: undefined: 'dict object' has no attribute 'ownr'"


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    path = tmp_path / "gate_held" / EMAIL_TEXT
    path.write_text("ok\nok\n{% if %}\n")

    with pytest.raises(TemplateProblem) as caught:
        Renderer(tmp_path).render(template_name("gate_held", EMAIL_TEXT), SAMPLES["gate_held"])

    assert str(caught.value).startswith(f"{path}:3: syntax error:")


@pytest.mark.parametrize("event", EVENTS)
def test_the_limits_change_no_output(event: str) -> None:
    """Every packaged template renders exactly as Jinja's own sandbox renders it: the
    budgets count what a template builds, they never alter it."""
    renderer = Renderer()
    for part in PARTS:
        name = template_name(event, part)
        limited = renderer._chat if name.endswith(".md") else renderer._text
        plain = ImmutableSandboxedEnvironment(
            loader=limited.loader,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=limited.autoescape,
            finalize=limited.finalize,
        )
        plain.filters.update(FILTERS)

        expected = plain.get_template(name).render(SAMPLES[event])

        assert renderer.render(name, SAMPLES[event]) == expected
