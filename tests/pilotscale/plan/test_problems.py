"""Problem lines and paths: the format every tool and test relies on."""

from __future__ import annotations

import pytest

from pilotscale.plan.problems import PlanError, Problem, format_path, quoted


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "(plan)"),
        (("program",), "program"),
        (("program", "budget", "pilot_budget"), "program.budget.pilot_budget"),
        (("departments", 2, "headcount"), "departments[2].headcount"),
        (("gates", 0, "approvers", 1), "gates[0].approvers[1]"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def test_a_problem_reads_file_line_path_message() -> None:
    problem = Problem("plan.yaml", 12, "gates[0].threshold", "must be a number")

    assert str(problem) == "plan.yaml:12: gates[0].threshold: must be a number"


def test_plan_error_sorts_by_line_then_path() -> None:
    error = PlanError(
        [
            Problem("p.yaml", 9, "b", "third"),
            Problem("p.yaml", 3, "z", "second"),
            Problem("p.yaml", 3, "a", "first"),
        ]
    )

    assert [p.message for p in error.problems] == ["first", "second", "third"]
    assert str(error).splitlines() == [
        "p.yaml:3: a: first",
        "p.yaml:3: z: second",
        "p.yaml:9: b: third",
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("hr-chat", "'hr-chat'"),
        ("ana@example.com", "'ana@example.com'"),
        (
            "https://hooks.example.com/x",
            "(a value that looks like a URL, not shown: URLs may hold secrets)",
        ),
        ("user:pw@host", "(a value that looks like a URL, not shown: URLs may hold secrets)"),
    ],
)
def test_quoted_hides_what_looks_like_a_url(value: str, shown: str) -> None:
    assert quoted(value) == shown
