"""Load a rollout plan: YAML, then the schema, then the cross-checks, then (when asked)
the essentials; all problems at once (the cross-checks and essentials run on the part the
schema accepted when it refused some)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError

from pilotscale.plan.crosscheck import crosscheck
from pilotscale.plan.essentials import Essential, Severity, essentials
from pilotscale.plan.locate import error_paths, validation_problems
from pilotscale.plan.problems import ROOT_PATH, PathKey, PlanError, Problem, format_path
from pilotscale.plan.salvage import echoes, salvage
from pilotscale.plan.schema import Plan
from pilotscale.plan.yamlsource import MAX_BYTES, YamlDocument, parse_yaml


@dataclass(frozen=True)
class LoadedPlan:
    plan: Plan
    path: Path
    text: str
    sha256: str  # of the plan's content, not its formatting: see plan_fingerprint
    # Located, not refusing: missing essentials under --allow-incomplete, a last phase
    # without monitoring gates.
    warnings: tuple[Problem, ...] = ()


class Essentials(StrEnum):
    """What loading does about missing essentials (`pilotscale.plan.essentials`)."""

    skip = "skip"  # a plan already in the store, read back: it was checked when applied
    refuse = "refuse"  # validate and apply
    warn = "warn"  # validate and apply --allow-incomplete


def plan_fingerprint(plan: Plan) -> str:
    """SHA-256 of the canonical JSON of `plan`: comments, key order and quoting don't count."""
    canonical = json.dumps(
        plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_plan(path: Path, *, check: Essentials = Essentials.skip) -> LoadedPlan:
    """Read and check the plan at `path`; PlanError lists every problem with its line.
    `check`: whether missing essentials are problems, warnings, or not looked for."""
    try:
        # Read at most one byte past the cap, so /dev/zero or a huge file cannot eat memory.
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PlanError(
            [Problem(str(path), 1, ROOT_PATH, f"cannot read the plan: {reason}; check the path")]
        ) from None
    return _load(raw, str(path), path, check)


def load_plan_text(
    text: str | bytes, filename: str = "plan.yaml", *, check: Essentials = Essentials.skip
) -> LoadedPlan:
    """Like load_plan, for a plan already in memory; `filename` is used in problems."""
    return _load(text, filename, Path(filename), check)


def _load(raw: str | bytes, filename: str, path: Path, check: Essentials) -> LoadedPlan:
    document = parse_yaml(raw, filename)
    try:
        plan = Plan.model_validate(document.data)
    except ValidationError as exc:
        problems = validation_problems(exc, document, filename)
        rest, warnings = _checks_of_the_rest(exc, document, filename, check)
        # Two errors of one value (a union tried two ways) say the same thing once.
        raise PlanError(dict.fromkeys(problems + rest), warnings=warnings) from None
    problems = [
        Problem(filename, document.line_of(where), format_path(where), message)
        for where, message in crosscheck(plan)
    ]
    found = essentials(plan) if check != Essentials.skip else []
    refused, warnings = _split(found, check, lambda where: where, document, filename)
    if problems or refused:
        raise PlanError(problems + refused, warnings=warnings)
    return LoadedPlan(
        plan=plan,
        path=path,
        text=document.text,
        sha256=plan_fingerprint(plan),
        warnings=tuple(sorted(warnings, key=lambda p: (p.line, p.path))),
    )


def _split(
    found: list[Essential],
    check: Essentials,
    original: Callable[[PathKey], PathKey],
    document: YamlDocument,
    filename: str,
) -> tuple[list[Problem], list[Problem]]:
    """Missing essentials as (problems, warnings), as `check` says, located in the file."""
    refused: list[Problem] = []
    warnings: list[Problem] = []
    for item in found:
        where = original(item.path)
        problem = Problem(filename, document.line_of(where), format_path(where), item.message)
        if item.severity == Severity.missing and check == Essentials.refuse:
            refused.append(problem)
        else:
            warnings.append(problem)
    return refused, warnings


def _checks_of_the_rest(
    error: ValidationError, document: YamlDocument, filename: str, check: Essentials
) -> tuple[list[Problem], list[Problem]]:
    """Cross-check problems and missing essentials of the parts the schema accepted, so
    one run shows all; as (problems, warnings)."""
    saved = salvage(document.data, error, error_paths)
    if saved is None:
        return [], []
    plan, parts = saved
    cut = parts.names_cut()
    problems = []
    for where, message in crosscheck(plan):
        if echoes(message, cut):
            continue
        path = parts.original(where)
        problems.append(Problem(filename, document.line_of(path), format_path(path), message))
    found = essentials(plan) if check != Essentials.skip else []
    # A field the schema refused was cut away, so it looks missing: that is the schema
    # problem said again ("no champions" after "champions: not a list").
    kept = [item for item in found if not _touches_cut(parts.original(item.path), parts.removed)]
    refused, warnings = _split(kept, check, parts.original, document, filename)
    return problems + refused, warnings


def _touches_cut(path: PathKey, removed: set[PathKey]) -> bool:
    # With a whole phase cut, the last phase left may not be the plan's last phase.
    if path[:1] == ("phases",) and any(len(cut) == 2 and cut[0] == "phases" for cut in removed):
        return True
    return any(path[: len(cut)] == cut or cut[: len(path)] == path for cut in removed)


def located(loaded: LoadedPlan, findings: list[tuple[PathKey, str]]) -> list[str]:
    """`FILE:LINE: message` for findings about a plan already loaded (a warning, a check
    against the store): the text is parsed again only when there is something to say."""
    if not findings:
        return []
    document = parse_yaml(loaded.text, str(loaded.path))
    return [f"{loaded.path}:{document.line_of(path)}: {message}" for path, message in findings]
