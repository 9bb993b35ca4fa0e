"""Hostile user templates fail safely, fast, with the file and line of the problem."""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Engine

from pilotscale.engine.dispatcher import dispatch
from pilotscale.notifications.catalog import CHAT, EMAIL_HTML, EMAIL_TEXT, template_name
from pilotscale.notifications.render import Renderer, TemplateProblem, configured_limits
from pilotscale.notifications.samples import SAMPLES
from pilotscale.notifications.sandbox import DEFAULT_LIMITS
from pilotscale.notifications.template_check import check_templates
from pilotscale.settings import get_settings
from tests.notifications.helpers import NOW, gate_held, queue

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


# Many values, each under the per-value cap (100,000 characters), that add up: each of
# these built about a gigabyte before renders had a memory budget.
BIG = "{% set big = 'x' * 99990 %}"
HOARDS = {
    "mapped_list": "{{ (range(10000)|map('string')|map('center', 99990)|list)|length }}",
    "namespace_list": (
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
        "{% set ns.l = ns.l + [big ~ i] %}{% endfor %}{{ ns.l|length }}"
    ),
    "slices": (
        "{% set ns = namespace(l=[]) %}{% for i in range(10000) %}"
        "{% set ns.l = ns.l + [big[i:]] %}{% endfor %}{{ ns.l|length }}"
    ),
    "set_block": (
        "{% set s %}{% for i in range(10000) %}{{ big }}{% endfor %}{% endset %}{{ s|length }}"
    ),
    "set_block_text": (
        "{% set s %}{% for i in range(10000) %}" + "y" * 99990 + "{% endfor %}{% endset %}"
        "{{ s|length }}"
    ),
    "macro": (
        "{% macro m() %}{% for i in range(10000) %}{{ big }}{% endfor %}{% endmacro %}"
        "{{ m()|length }}"
    ),
    "join": "{{ ([big] * 10000)|join|length }}",
    "tojson": "{{ ([big] * 10000)|tojson|length }}",
    "printed_list": "{{ [big] * 10000 }}",
    "concat": "{{ ([big] * 10000) ~ 'x' }}",
    "percent": "{{ ('%s' % ([big] * 10000))|length }}",
    "format": "{{ '{}'.format([big] * 10000)|length }}",
}


@pytest.mark.parametrize("name", list(HOARDS))
def test_a_template_that_builds_too_much_is_refused_fast_with_bounded_memory(
    tmp_path: Path, name: str
) -> None:
    folder = tmp_path / "gate_held"
    folder.mkdir()
    path = folder / EMAIL_TEXT
    path.write_text(f"Hello\n{BIG}{HOARDS[name]}\n")
    renderer = Renderer(tmp_path)

    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(TemplateProblem) as caught:
            renderer.render(template_name("gate_held", EMAIL_TEXT), SAMPLES["gate_held"])
        seconds = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert seconds < 3
    assert peak < 16_000_000  # the 8 MB budget, and what rendering itself needs
    assert str(caught.value) == (
        f"{path}:2: not allowed in a template: the template builds more than 8 MB of "
        "values and text in one render"
    )


def test_templates_check_refuses_a_template_over_the_budget(tmp_path: Path) -> None:
    (tmp_path / "gate_held").mkdir()
    path = tmp_path / "gate_held" / CHAT
    path.write_text(f"**Held**\n{BIG}\n{HOARDS['mapped_list']}\n")

    problems = [str(p) for p in check_templates(Renderer(tmp_path))]

    assert problems == [
        f"{path}:3: not allowed in a template: the template builds more than 8 MB of values "
        "and text in one render"
    ]


def test_the_budget_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gate_held").mkdir()
    # About 6 MB: within the default budget, over a budget of 4 MB.
    (tmp_path / "gate_held" / CHAT).write_text(
        f"{BIG}{{{{ (range(60)|map('string')|map('center', 99990)|list)|length }}}}\n"
    )
    monkeypatch.setenv("PILOTSCALE_RENDER_BUDGET_MB", "4")
    get_settings.cache_clear()
    try:
        limits = configured_limits()
    finally:
        get_settings.cache_clear()

    assert Renderer(tmp_path).chat("gate_held", SAMPLES["gate_held"]) == "60"
    with pytest.raises(TemplateProblem, match="builds more than 4 MB"):
        Renderer(tmp_path, limits).chat("gate_held", SAMPLES["gate_held"])


def test_renders_in_flight_together_stay_within_the_total_budget(
    tmp_path: Path, sqlite_engine: Engine
) -> None:
    # A legal template that holds 7 MB while it renders (the list, then a loop over it).
    (tmp_path / "gate_held").mkdir()
    (tmp_path / "gate_held" / EMAIL_HTML).write_text(
        "{% set l = range(70)|map('string')|map('center', 99990)|list %}"
        "{% for x in l %}{% for y in range(200) %}{% endfor %}{% endfor %}"
        "<html>{{ l|length }}</html>\n"
    )
    limits = replace(DEFAULT_LIMITS, max_built=8_000_000, max_built_total=16_000_000)
    queue(sqlite_engine, [gate_held("ines.sponsor", about=f"m{i}") for i in range(16)])

    tracemalloc.start()
    try:
        report = dispatch(
            engine=sqlite_engine,
            now=NOW,
            outbox_dir=tmp_path / "outbox",
            renderer=Renderer(tmp_path, limits),
            local_delivery=True,
            concurrency=16,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert report.sent == 16
    # Two renders at once (16 MB / 8 MB), not sixteen: about 2 x 7 MB, plus the rest.
    assert limits.renders_at_once == 2
    assert peak < 24_000_000
