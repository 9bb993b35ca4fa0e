"""Load a rollout plan: YAML, then the schema, then the cross-checks; all problems at once
(the cross-checks run on the part the schema accepted when it refused some)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from pilotscale.plan.crosscheck import crosscheck
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


def plan_fingerprint(plan: Plan) -> str:
    """SHA-256 of the canonical JSON of `plan`: comments, key order and quoting don't count."""
    canonical = json.dumps(
        plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_plan(path: Path) -> LoadedPlan:
    """Read and check the plan at `path`; PlanError lists every problem with its line."""
    try:
        # Read at most one byte past the cap, so /dev/zero or a huge file cannot eat memory.
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PlanError(
            [Problem(str(path), 1, ROOT_PATH, f"cannot read the plan: {reason}; check the path")]
        ) from None
    return _load(raw, str(path), path)


def load_plan_text(text: str | bytes, filename: str = "plan.yaml") -> LoadedPlan:
    """Like load_plan, for a plan already in memory; `filename` is used in problems."""
    return _load(text, filename, Path(filename))


def _load(raw: str | bytes, filename: str, path: Path) -> LoadedPlan:
    document = parse_yaml(raw, filename)
    try:
        plan = Plan.model_validate(document.data)
    except ValidationError as exc:
        problems = validation_problems(exc, document, filename)
        problems += _crosschecks_of_the_rest(exc, document, filename)
        # Two errors of one value (a union tried two ways) say the same thing once.
        raise PlanError(dict.fromkeys(problems)) from None
    findings = crosscheck(plan)
    if findings:
        raise PlanError(
            Problem(filename, document.line_of(where), format_path(where), message)
            for where, message in findings
        )
    return LoadedPlan(plan=plan, path=path, text=document.text, sha256=plan_fingerprint(plan))


def _crosschecks_of_the_rest(
    error: ValidationError, document: YamlDocument, filename: str
) -> list[Problem]:
    """Cross-check problems of the parts the schema accepted, so one run shows all."""
    saved = salvage(document.data, error, error_paths)
    if saved is None:
        return []
    plan, parts = saved
    cut = parts.names_cut()
    problems = []
    for where, message in crosscheck(plan):
        if echoes(message, cut):
            continue
        path = parts.original(where)
        problems.append(Problem(filename, document.line_of(path), format_path(path), message))
    return problems


def located(loaded: LoadedPlan, findings: list[tuple[PathKey, str]]) -> list[str]:
    """`FILE:LINE: message` for findings about a plan already loaded (a warning, a check
    against the store): the text is parsed again only when there is something to say."""
    if not findings:
        return []
    document = parse_yaml(loaded.text, str(loaded.path))
    return [f"{loaded.path}:{document.line_of(path)}: {message}" for path, message in findings]
