"""Reading YAML: lines of every field, duplicate keys, and hostile input that fails fast."""

from __future__ import annotations

import time
from datetime import date

import pytest

from pilotscale.plan.problems import PlanError
from pilotscale.plan.yamlsource import MAX_BYTES, YamlDocument, parse_yaml


def yaml_problems(text: str | bytes) -> list[str]:
    with pytest.raises(PlanError) as info:
        parse_yaml(text, "p.yaml")
    return [str(problem) for problem in info.value.problems]


def test_every_key_and_item_has_its_line() -> None:
    document = parse_yaml(
        "# comment\n"
        "program:\n"
        "  name: x\n"
        "departments:\n"
        "  - name: a\n"
        "    champions: [ana,\n"
        "      bob]\n"
        "  - {name: b,\n"
        "     headcount: 3}\n",
        "p.yaml",
    )

    assert document.data == {
        "program": {"name": "x"},
        "departments": [{"name": "a", "champions": ["ana", "bob"]}, {"name": "b", "headcount": 3}],
    }
    assert document.lines == {
        (): 2,
        ("program",): 2,
        ("program", "name"): 3,
        ("departments",): 4,
        ("departments", 0): 5,
        ("departments", 0, "name"): 5,
        ("departments", 0, "champions"): 6,
        ("departments", 0, "champions", 0): 6,
        ("departments", 0, "champions", 1): 7,
        ("departments", 1): 8,
        ("departments", 1, "name"): 8,
        ("departments", 1, "headcount"): 9,
    }


def test_line_of_falls_back_to_the_nearest_written_ancestor() -> None:
    document = YamlDocument(data={}, lines={(): 1, ("a",): 4, ("a", 0): 5}, text="")

    assert document.line_of(("a", 0, "missing", "deeper")) == 5
    assert document.line_of(("b",)) == 1


def test_scalars_use_the_safe_loader_types() -> None:
    document = parse_yaml(
        "i: 3\nf: 0.5\nb: true\nd: 2026-03-31\ns: '3'\nn: null\nt: 2w\n", "p.yaml"
    )

    assert document.data == {
        "i": 3,
        "f": 0.5,
        "b": True,
        "d": date(2026, 3, 31),
        "s": "3",
        "n": None,
        "t": "2w",
    }


def test_merge_keys_work_and_written_keys_override_them() -> None:
    document = parse_yaml(
        "base: &base\n  headcount: 10\n  wave: 1\nhr:\n  <<: *base\n  wave: 2\n", "p.yaml"
    )

    assert document.data["hr"] == {"headcount": 10, "wave": 2}
    assert document.lines[("hr", "wave")] == 6


def test_duplicate_keys_are_reported_at_the_second_occurrence() -> None:
    text = "program:\n  name: a\n  title: t\n  name: b\ngates: []\ngates: []\n"

    assert yaml_problems(text) == [
        "p.yaml:4: program.name: the key 'name' appears twice in this mapping (first at line 2); "
        "YAML would silently keep only the last one: remove or rename one of them",
        "p.yaml:6: gates: the key 'gates' appears twice in this mapping (first at line 5); "
        "YAML would silently keep only the last one: remove or rename one of them",
    ]


def test_a_syntax_error_is_a_problem_at_its_line() -> None:
    text = "program:\n  name: a\n  title: [unclosed\nphases: []\n"

    assert yaml_problems(text) == [
        "p.yaml:4: (plan): YAML syntax error: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence); check indentation, quotes and ':' here",
    ]


def test_a_tab_indentation_is_a_problem_at_its_line() -> None:
    assert yaml_problems("program:\n\tname: a\n") == [
        "p.yaml:2: (plan): YAML syntax error: found character '\\t' that cannot start any token "
        "(while scanning for the next token); check indentation, quotes and ':' here",
    ]


def test_a_syntax_error_does_not_quote_the_offending_line() -> None:
    problem = yaml_problems('url: "env:X\nkey: s3cr3t-value: oops\n')

    assert len(problem) == 1
    assert "s3cr3t" not in problem[0]


def test_billion_laughs_fails_fast_with_one_problem() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        name, previous = chr(ord("a") + level), chr(ord("a") + level - 1)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    started = time.monotonic()

    found = yaml_problems("\n".join(lines) + "\n")

    assert time.monotonic() - started < 2
    assert found == [
        "p.yaml:6: (plan): the plan holds more than 100,000 values once its YAML aliases "
        "('*name') are expanded; a rollout plan needs far fewer: remove the repeated aliases",
    ]


def test_deep_alias_chains_are_stopped_too() -> None:
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 80)]

    assert yaml_problems("\n".join(lines) + "\n") == [
        "p.yaml:64: (plan): the plan is nested more than 64 levels deep once its YAML aliases "
        "('*name') are expanded: copy the values instead of nesting aliases",
    ]


def test_an_alias_inside_itself_is_a_problem() -> None:
    assert yaml_problems("a: &loop\n  - *loop\n") == [
        "p.yaml:2: (plan): the alias '*loop' refers to the value that contains it, which never "
        "ends: copy the values instead of the alias",
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: " + "[" * 50_000 + "]" * 50_000 + "\n", 1),
        ("".join("  " * i + "k:\n" for i in range(200)) + "  " * 200 + "x\n", 64),
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_a_located_problem(text: str, line: int) -> None:
    started = time.monotonic()

    found = yaml_problems(text)

    assert time.monotonic() - started < 2
    assert found == [
        f"p.yaml:{line}: (plan): the plan is nested more than 64 levels deep here; "
        "a rollout plan needs far fewer: flatten this part",
    ]


def test_non_utf8_bytes_are_a_problem_naming_the_offset() -> None:
    raw = b"program:\n  title: Recursos Humanos\n  name: espa\xf1a\n"

    assert yaml_problems(raw) == [
        "p.yaml:3: (plan): byte 0xf1 at offset 47 is not valid UTF-8: save the file as UTF-8",
    ]


def test_a_utf8_bom_is_accepted() -> None:
    document = parse_yaml(b"\xef\xbb\xbfname: Espa\xc3\xb1a\n", "p.yaml")

    assert document.data == {"name": "España"}


def test_control_characters_are_a_problem() -> None:
    assert yaml_problems("a: 1\nb: x\x00y\n") == [
        "p.yaml:2: (plan): the character U+0000 at offset 9 is not allowed in YAML: remove it",
    ]


def test_a_file_over_the_size_cap_is_one_problem() -> None:
    raw = b"# " + b"x" * MAX_BYTES + b"\n"

    assert yaml_problems(raw) == [
        "p.yaml:1: (plan): the file is larger than 5,242,880 bytes, the most a plan may be: "
        "check that this is the right file",
    ]


EMPTY = "p.yaml:1: (plan): the plan is empty: start from `pilotscale schema` or an example plan"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            EMPTY,
        ),
        (
            "# only a comment\n",
            EMPTY,
        ),
        (
            "---\n",
            EMPTY,
        ),
        (
            "- name: a\n",
            "p.yaml:1: (plan): the plan must be a mapping of keys such as 'program:', 'people:', "
            "'phases:', 'gates:' and 'departments:', but the file holds a list",
        ),
        (
            "just text\n",
            "p.yaml:1: (plan): the plan must be a mapping of keys such as 'program:', 'people:', "
            "'phases:', 'gates:' and 'departments:', but the file holds a single value",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "p.yaml:2: (plan): a plan file holds one YAML document, and a second one starts here: "
            "remove the '---' and what follows, or move it to its own file",
        ),
    ],
    ids=["empty", "comment", "null-document", "list", "scalar", "two-documents"],
)
def test_the_document_must_be_one_mapping(text: str, expected: str) -> None:
    assert yaml_problems(text) == [expected]


def test_keys_must_be_strings() -> None:
    assert yaml_problems("program:\n  on: 1\n  2: b\n  ? [a]\n  : c\n") == [
        "p.yaml:2: program.on: the key 'on' is read as a true/false value, not as a name: "
        "quote it ('on':)",
        "p.yaml:3: program.2: the key '2' is read as a number, not as a name: quote it ('2':)",
        "p.yaml:4: program: a key must be a name, not a list or a mapping",
    ]


def test_unsafe_and_unknown_tags_are_refused_not_run() -> None:
    text = (
        "a: !!python/object/apply:os.system ['touch /tmp/pwned']\n"
        "b: !!python/name:os.system ''\n"
        "c: !custom value\n"
        "d: !!set {x, y}\n"
    )

    assert yaml_problems(text) == [
        "p.yaml:1: a: the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not "
        "supported in a plan: remove it",
        "p.yaml:2: b: the YAML tag 'tag:yaml.org,2002:python/name:os.system' is not supported "
        "in a plan: remove it",
        "p.yaml:3: c: the YAML tag '!custom' is not supported in a plan: remove it",
        "p.yaml:4: d: the YAML tag 'tag:yaml.org,2002:set' is not supported in a plan: remove it",
    ]


def test_an_impossible_date_is_a_problem() -> None:
    assert yaml_problems("blackout:\n  - {start: 2026-02-30, end: 2026-03-01}\n") == [
        "p.yaml:2: blackout[0].start: not a valid date: write it as YYYY-MM-DD, e.g. 2026-03-31",
    ]


def test_anchor_mistakes_are_explained() -> None:
    assert yaml_problems("a: &x 1\nb: &x 2\nc: *y\n") == [
        "p.yaml:2: (plan): the anchor '&x' is defined twice (first at line 1): rename one of "
        "them and its aliases",
    ]
    assert yaml_problems("a: 1\nc: *y\n") == [
        "p.yaml:2: (plan): the alias '*y' has no anchor '&y' before it: define the anchor first "
        "or fix the name",
    ]


def test_a_merge_needs_mappings_and_a_plain_double_angle_value_is_text() -> None:
    assert parse_yaml("a: <<\n", "p.yaml").data == {"a": "<<"}
    assert yaml_problems("a:\n  <<: [1]\n") == [
        "p.yaml:2: a: '<<' merges a mapping or a list of mappings only",
    ]
