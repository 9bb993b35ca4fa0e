"""Hostile user templates fail safely, fast, with the file and line of the problem."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from notifications.events import EMAIL_TEXT, template_name
from notifications.render import Renderer, TemplateProblem
from notifications.samples import SAMPLES

PAYLOADS = {
    "mro": "{{ ''.__class__.__mro__ }}",
    "globals": "{{ cycler.__init__.__globals__ }}",
    "huge_range": "{% for i in range(10**9) %}x{% endfor %}",
    "repeat": "{{ 'x' * 10**9 }}",
    "power": "{{ 10**10**10 }}",
    "center_filter": "{{ 'x'|center(10**9) }}",
    "center_method": "{{ 'x'.center(10**9) }}",
    "format_width": "{{ '{:>999999999}'.format(1) }}",
    "percent_width": "{{ '%999999999s' % 1 }}",
    "doubling": (
        "{% set ns = namespace(s='x') %}"
        "{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    ),
    "nested_loops": "{% for a in range(5000) %}{% for b in range(5000) %}{% endfor %}{% endfor %}",
    "recursion": "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "join": "{{ range(10000)|join('x' * 50000) }}",
    "replace": "{{ ('x' * 50000)|replace('x', 'x' * 50000) }}",
    "lipsum": "{{ lipsum(10**6) }}",
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_a_hostile_template_fails_safely(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "gate_held"
    folder.mkdir()
    path = folder / EMAIL_TEXT
    path.write_text(f"Hello\n{PAYLOADS[name]}\n")
    renderer = Renderer(tmp_path)

    started = time.monotonic()
    with pytest.raises(TemplateProblem) as caught:
        renderer.render(template_name("gate_held", EMAIL_TEXT), SAMPLES["gate_held"])

    assert time.monotonic() - started < 3
    assert str(caught.value).startswith(f"{path}:2: ")
    assert caught.value.file == str(path)
    assert caught.value.line == 2


def test_the_unsafe_attribute_is_named(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / EMAIL_TEXT).write_text(PAYLOADS["mro"])

    with pytest.raises(
        TemplateProblem,
        match="not allowed in a template: access to attribute "
        "'__class__' of 'str' object is unsafe",
    ):
        Renderer(tmp_path).render(template_name("gate_held", EMAIL_TEXT), SAMPLES["gate_held"])


def test_ordinary_loops_and_arithmetic_still_work(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / EMAIL_TEXT).write_text(
        "{% for i in range(3) %}{{ i * 2 }}{% endfor %} {{ 'ab' * 3 }} {{ 2 ** 10 }} "
        "{{ '%5s|' % 'x' }}{{ 'x'|center(5) }}|"
    )
    out = Renderer(tmp_path).render(template_name("gate_held", EMAIL_TEXT), SAMPLES["gate_held"])
    assert out == "024 ababab 1024     x|  x  |"


def test_a_huge_output_is_refused(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / EMAIL_TEXT).write_text(
        "{% for i in range(10000) %}{{ 'y' * 90000 }}{% endfor %}"
    )
    with pytest.raises(TemplateProblem, match="output is longer than"):
        Renderer(tmp_path).render(template_name("gate_held", EMAIL_TEXT), SAMPLES["gate_held"])
