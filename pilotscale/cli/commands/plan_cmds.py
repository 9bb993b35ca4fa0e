"""`pilotscale validate` and `pilotscale schema`: check a plan, and help editors check it."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from pilotscale.cli.app import app
from pilotscale.cli.errors import CliError
from pilotscale.cli.text import plain
from pilotscale.plan.problems import PlanError

# The plan's schema (pydantic models) is imported when a command needs it, not for --help.
if TYPE_CHECKING:
    from pilotscale.plan.problems import Problem

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


ALLOW_INCOMPLETE_HELP = (
    "Warn about missing essentials (a department's sponsor, champions, a use case with a "
    "KPI, the four support owners) instead of refusing the plan."
)
AllowIncomplete = typer.Option(False, "--allow-incomplete", help=ALLOW_INCOMPLETE_HELP)


@app.command()
def validate(
    plan: Path = typer.Argument(..., help="The rollout plan (YAML).", show_default=False),
    allow_incomplete: bool = AllowIncomplete,
) -> None:
    """Check a rollout plan and list every problem with its file, line and field, all in
    one run: the schema, the cross-references (on whatever parsed) and the essentials.

    The essentials: each department has a sponsor, at least one champion, a use case with
    a KPI and an owner for each support area (technical, adoption, content, governance);
    a plan missing one is refused, or with --allow-incomplete only warned about. A last
    phase without monitoring gates is always a warning.

    Exit code 0 when the plan is valid (warnings included), 2 when it has problems.

    Example:

      pilotscale validate examples/acme-ai-assistant.yaml

    A problem reads  FILE:LINE: path.to.field: what is wrong and what to do
    A warning reads  warning: FILE:LINE: path.to.field: what is missing
    """
    from pilotscale.plan.loader import Essentials, load_plan

    check = Essentials.warn if allow_incomplete else Essentials.refuse
    try:
        loaded = load_plan(plan, check=check)
    except PlanError as exc:
        # Plain print, not rich: problem text must come out exactly as written (no emoji
        # codes or markup interpreted), one problem per line for editors and grep.
        print_problems(exc)
        count = len(exc.problems)
        print(plain(f"{plan}: {count} problem{'s' if count != 1 else ''} found"), file=sys.stderr)
        raise typer.Exit(code=2) from None
    print_warnings(loaded.warnings)
    p = loaded.plan
    print(
        plain(
            f"{plan}: OK — program {p.program.name}, {_count(p.departments, 'department')}, "
            f"{_count(p.phases, 'phase')}, {_count(p.gates, 'gate')}"
        )
    )


def print_problems(error: PlanError) -> None:
    """Every problem and warning of a refused plan, one a line, in file order."""
    lines = [(p.line, p.path, plain(p)) for p in error.problems]
    lines += [(p.line, p.path, plain(f"warning: {p}")) for p in error.warnings]
    for _, _, line in sorted(lines):
        print(line, file=sys.stderr)


def print_warnings(warnings: Iterable[Problem]) -> None:
    for warning in warnings:
        print(plain(f"warning: {warning}"), file=sys.stderr)


def _count(items: list[Any], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def plan_json_schema() -> dict[str, Any]:
    """The plan's JSON Schema, with the `$schema` and `title` editors expect."""
    from pilotscale.plan.schema import Plan

    schema = Plan.model_json_schema()
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        **schema,
        "title": "pilotscale rollout plan",
        "description": "A pilotscale rollout plan: program, people, phases, gates, departments.",
    }


@app.command()
def schema(
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write the schema to this file instead of printing it."
    ),
) -> None:
    """Print the JSON Schema of a rollout plan, for editor completion and checks.

    Example:

      pilotscale schema --out pilotscale-plan.schema.json

    then put this comment on the first line of your plan:

      # yaml-language-server: $schema=pilotscale-plan.schema.json

    Editors that use yaml-language-server (VS Code's YAML extension, for one) then
    complete keys and flag mistakes as you type.
    """
    text = json.dumps(plan_json_schema(), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        print(text, end="")
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or type(exc).__name__}") from None
    print(
        plain(
            f"wrote {out}; add '# yaml-language-server: $schema={out.name}' at the top of your plan"
        ),
        file=sys.stderr,
    )
