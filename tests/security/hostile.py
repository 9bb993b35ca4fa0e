"""Hostile inputs: hypothesis strategies and hand-made files that a plan loader (or a
metrics importer) must turn into located problems, never into a crash.

A *located* problem is a line `FILE:LINE: ...` whose LINE exists in the file (or is
the line just past its end, where a missing value is found).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "acme-ai-assistant.yaml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_LINES = EXAMPLE_TEXT.splitlines(keepends=True)

LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+): ")

# Dates as people type them, none of them ISO 8601 calendar dates.
WRONG_DATES = [
    "2026-13-01",
    "2026-02-30",
    "2026-00-10",
    "31/12/2026",
    "12/31/2026",
    "2026/12/31",
    "31.12.2026",
    "2026.12.31",
    "Dec 31 2026",
    "31 December 2026",
    "2026-12-31T25:00:00",
    "2026-12-31 24:61",
    "20261231",
    "2026-W53-1",
    "2026-365",
    "+2026-12-31",
    "-0001-01-01",
    "0000-00-00",
    "yesterday",
    "next monday",
    "2026-12-31Z",
    "1735603200",
    "2026-12",
    "2026",
    "99999-01-01",
    "2026-12-31/2027-01-04",
    "'2026-12-31'",
    "~",
    "[2026, 12, 31]",
    "{year: 2026}",
    "2026-12-31 # a comment",
    "２０２６-１２-３１",  # full-width digits
]


def located_problems(output: str, filename: str, text_lines: int) -> list[str]:
    """The lines of `output` that are not located problems of `filename` (expected: [])."""
    bad = []
    for line in output.splitlines():
        if line.startswith(f"{filename}: ") and "problem" in line:
            continue  # the closing count
        match = LOCATED.match(line)
        if match is None or match["file"] != filename:
            bad.append(f"not located: {line!r}")
        elif not 1 <= int(match["line"]) <= text_lines + 1:
            bad.append(f"line {match['line']} is outside the file ({text_lines} lines): {line!r}")
    return bad


def line_count(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


# --------------------------------------------------------------------------- strategies


@st.composite
def mutated_example(draw: st.DrawFn) -> bytes:
    """The example plan with a few random edits: lines dropped, repeated, swapped,
    re-indented or cut short, characters inserted, values replaced."""
    lines = list(EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["drop", "repeat", "swap", "indent", "cut", "insert", "value"]))
        if edit == "drop":
            del lines[i]
        elif edit == "repeat":
            lines.insert(i, lines[i])
        elif edit == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif edit == "indent":
            lines[i] = " " * draw(st.integers(0, 9)) + lines[i].lstrip(" ")
        elif edit == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))] + "\n"
        elif edit == "insert":
            at = draw(st.integers(0, len(lines[i])))
            junk = draw(
                st.text(st.sampled_from(":-[]{}&*!|>'\"#%@`,?\t\\\x00\x85\u2028 ab1"), max_size=4)
            )
            lines[i] = lines[i][:at] + junk + lines[i][at:]
        elif ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            value = draw(
                st.one_of(
                    st.sampled_from(WRONG_DATES),
                    st.sampled_from(["-1", "1e309", "0x10", "null", "yes", "[]", "{}", "''"]),
                    st.text(max_size=12).map(lambda t: yaml.safe_dump(t).strip()),
                )
            )
            lines[i] = f"{key}: {value}\n"
        if not lines:
            break
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "latin-1"]))
    return "".join(lines).encode(encoding, errors="replace")


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.dates(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def wrong_shapes(draw: st.DrawFn) -> bytes:
    """Well-formed YAML of the wrong shape: random documents, or the plan's own sections
    with random content."""
    sections = ["program", "people", "phases", "gates", "departments", "rollout", "channels"]
    if draw(st.booleans()):
        document = draw(yaml_values)
    else:
        document = {s: draw(yaml_values) for s in draw(st.lists(st.sampled_from(sections)))}
    return yaml.safe_dump(document, allow_unicode=True).encode("utf-8")


any_bytes = st.binary(max_size=400)
any_text = st.text(max_size=400).map(lambda t: t.encode("utf-8", errors="surrogatepass"))


# --------------------------------------------------------------------------- named files


def billion_laughs(levels: int = 10, width: int = 10) -> bytes:
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, levels):
        refs = ", ".join([f"*lol{level - 1}"] * width)
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


def laughs_inside_the_plan() -> bytes:
    """Billion laughs hidden in a department's use cases of an otherwise valid plan."""
    anchors = "x-laughs:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n"
    for level in range(1, 7):
        refs = ",".join([f"*{chr(96 + level)}"] * 10)
        anchors += f"  {chr(97 + level)}: &{chr(97 + level)} [{refs}]\n"
    return (EXAMPLE_TEXT + anchors).encode()


def deep_flow(depth: int = 50_000) -> bytes:
    return ("program: " + "[" * depth + "]" * depth + "\n").encode()


def deep_block(depth: int = 2_000) -> bytes:
    return "".join(f"{' ' * i}k{i}:\n" for i in range(depth)).encode() + b" " * depth + b"v\n"


def deep_mapping_flow(depth: int = 20_000) -> bytes:
    return ("program: " + "{a: " * depth + "1" + "}" * depth + "\n").encode()


def huge_file() -> bytes:
    """Larger than the 5 MB cap, made of a valid plan and endless comments."""
    return EXAMPLE_TEXT.encode() + b"# padding padding padding padding\n" * 200_000


def huge_plan_under_the_cap() -> bytes:
    """Just under the cap: a valid head and one enormous list of people."""
    person = "  - {id: p%d, name: P, email: p%d@x.example}\n"
    body = "".join(person % (i, i) for i in range(60_000))
    return ("program: {name: x}\npeople:\n" + body).encode()[: 5 * 1024 * 1024 - 10]


def utf16(bom: bool = True) -> bytes:
    encoded = EXAMPLE_TEXT.encode("utf-16" if bom else "utf-16-le")
    return encoded


def latin1_name() -> bytes:
    text = EXAMPLE_TEXT.replace("Human Resources", "Recursos Humanos: Gestión")
    return text.encode("latin-1", errors="replace")


def nul_bytes() -> bytes:
    return EXAMPLE_TEXT.encode().replace(b"program:", b"program:\x00", 1)


def wrong_date(value: str) -> bytes:
    return EXAMPLE_TEXT.replace("start: 2026-12-21", f"start: {value}", 1).encode()


NAMED: dict[str, bytes] = {
    "billion-laughs": billion_laughs(),
    "laughs-inside-a-plan": laughs_inside_the_plan(),
    "deep-flow-lists": deep_flow(),
    "deep-flow-mappings": deep_mapping_flow(),
    "deep-block-nesting": deep_block(),
    "huge-file": huge_file(),
    "huge-plan-under-the-cap": huge_plan_under_the_cap(),
    "utf-16-with-bom": utf16(),
    "utf-16-without-bom": utf16(bom=False),
    "utf-32": EXAMPLE_TEXT.encode("utf-32"),
    "latin-1": latin1_name(),
    "nul-byte": nul_bytes(),
    "empty": b"",
    "only-a-bom": b"\xef\xbb\xbf",
    "only-comments": b"# nothing\n# here\n",
    "two-documents": EXAMPLE_TEXT.encode() + b"---\nprogram: {}\n",
    "python-tag": b"program: !!python/object/apply:os.system ['echo owned']\n",
    "custom-tag": b"program: !secret {name: x}\n",
    "binary-tag": b"program: !!binary aGVsbG8=\n",
    "merge-of-a-scalar": b"program:\n  <<: 5\n",
    "undefined-alias": b"program: *nowhere\n",
    "recursive-alias": b"a: &a [*a]\n",
    "windows-newlines": EXAMPLE_TEXT.replace("\n", "\r\n").encode(),
    "old-mac-newlines": EXAMPLE_TEXT.replace("\n", "\r").encode(),
    "tabs": EXAMPLE_TEXT.replace("  ", "\t").encode(),
    **{f"date {value}": wrong_date(value) for value in WRONG_DATES},
}
