"""User text on the terminal: control codes made visible, markup never read, JSON exact."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from pilotscale.cli.text import LogText, json_text, plain, terminal, text

RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("value", "shown", "one_line"),
    [
        ("ACME [/oops]", "ACME [/oops]", "ACME [/oops]"),
        ("clear \x1b[2J", "clear \\x1b[2J", "clear \\x1b[2J"),
        ("title \x1b]0;pwned\x07", "title \\x1b]0;pwned\\x07", "title \\x1b]0;pwned\\x07"),
        ("8-bit CSI \x9b2J", "8-bit CSI \\x9b2J", "8-bit CSI \\x9b2J"),
        ("hidden\rshown", "hidden\\rshown", "hidden\\rshown"),
        ("back\x08space, del\x7f, nul\x00", "back\\x08space, del\\x7f, nul\\x00", None),
        ("evil\u202eexe.txt", "evil\\u202eexe.txt", "evil\\u202eexe.txt"),
        ("line\u2028separator", "line\\u2028separator", "line\\u2028separator"),
        ("two\nlines", "two\nlines", "two\\nlines"),
        ("tab\tstays", "tab\tstays", "tab\tstays"),
        ("María 😀 :warning:", "María 😀 :warning:", "María 😀 :warning:"),
    ],
)
def test_control_codes_are_shown_not_acted_on(value: str, shown: str, one_line: str | None) -> None:
    assert plain(value) == shown
    assert plain(value, one_line=True) == (one_line or shown)


@given(st.text())
def test_nothing_a_terminal_acts_on_is_left(value: str) -> None:
    assert RAW.findall(plain(value)) == []
    assert RAW.findall(plain(value, one_line=True)) == []
    assert "\n" not in plain(value, one_line=True)


@given(st.text(alphabet="[]/\\ab@#=:\x1b\n"))
def test_text_is_printed_as_written_never_as_markup(value: str) -> None:
    out = io.StringIO()
    console = Console(file=out, width=1000, highlight=False, emoji=False, soft_wrap=True)

    console.print(text(value), "[bold]x[/]", end="")

    assert out.getvalue() == plain(value) + " x"


def test_the_cli_console_replaces_no_emoji_code() -> None:
    out = io.StringIO()
    console = terminal()
    console.file = out

    console.print("a :warning: sign", markup=False)

    assert out.getvalue() == "a :warning: sign\n"


@given(
    st.recursive(
        st.none() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_json_text_is_the_same_json_with_no_raw_control_character(data: object) -> None:
    dumped = json_text(data)

    assert json.loads(dumped) == data
    assert RAW.findall(dumped) == []


def test_log_lines_show_control_codes_too() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(LogText())
    logger = logging.getLogger("tests.cli.text")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("metric source %s failed", "x\x1b[2J")
        try:
            raise ValueError("bad \x9b value")
        except ValueError:
            logger.exception("and a traceback")
    finally:
        logger.removeHandler(handler)

    assert RAW.findall(out.getvalue()) == []
    assert "metric source x\\x1b[2J failed" in out.getvalue()
    assert "ValueError: bad \\x9b value" in out.getvalue()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text() | st.integers(), inner, max_size=3)
    ),
    max_leaves=12,
)


@given(JSON_VALUES, st.integers(min_value=0, max_value=4))
def test_json_text_one_line_from_a_depth_is_the_same_json(data: object, depth: int) -> None:
    dumped = json_text(data, one_line_from=depth)

    assert json.loads(dumped) == json.loads(json.dumps(data))
    assert RAW.findall(dumped) == []


@given(JSON_VALUES)
def test_json_text_one_line_below_every_level_is_the_indented_layout(data: object) -> None:
    assert json_text(data, one_line_from=99) == json_text(data)


def test_json_text_writes_the_records_below_its_depth_on_one_line_each() -> None:
    data = {"departments": [{"name": "hr", "gates": [{"gate": "a", "ok": True}, {"gate": "b"}]}]}

    assert json_text(data, one_line_from=4) == (
        "{\n"
        '  "departments": [\n'
        "    {\n"
        '      "name": "hr",\n'
        '      "gates": [\n'
        '        {"gate": "a", "ok": true},\n'
        '        {"gate": "b"}\n'
        "      ]\n"
        "    }\n"
        "  ]\n"
        "}"
    )


@pytest.mark.parametrize("one_line_from", [None, 0])
def test_json_text_escapes_delete_and_escape_in_otherwise_ascii_text(
    one_line_from: int | None,
) -> None:
    dumped = json_text({"title": "a\x7fb\x1b[2Jc"}, one_line_from=one_line_from)

    assert "\\u007f" in dumped
    assert "\\u001b" in dumped
    assert RAW.findall(dumped) == []
