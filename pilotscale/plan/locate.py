"""Turn pydantic validation errors into problems at the YAML line they are about.

pydantic's `loc` follows the models, not the file: a gate error reads
`('gates', 0, 'metric', 'threshold')`, where `metric` is the gate's `kind` tag
(the union member that was tried), not a key. Walking the loc along the model
types tells tags from keys exactly, even for a metric gate, whose `metric` is
both its tag and one of its fields.
"""

from __future__ import annotations

import difflib
import re
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.dataclasses import is_pydantic_dataclass
from pydantic.fields import FieldInfo

from pilotscale.plan.problems import PathKey, Problem, format_path, quoted
from pilotscale.plan.schema import SLUG_PATTERN, Plan
from pilotscale.plan.yamlsource import YamlDocument

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Located:
    path: PathKey  # a path into the YAML data: tags dropped
    owner: type | None  # the model (or dataclass) whose field the last path element names
    tags: tuple[str, ...]  # the union tags expected at the end of the path, if any


def _unwrap(tp: Any) -> Any:
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [m for m in get_args(tp) if m is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    """A pydantic model or a pydantic dataclass (people are dataclasses, for memory)."""
    return isinstance(tp, type) and (issubclass(tp, BaseModel) or is_pydantic_dataclass(tp))


def _fields(tp: Any) -> dict[str, FieldInfo]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return dict(tp.model_fields)
    return dict(getattr(tp, "__pydantic_fields__", {}))


def _union_tags(tp: Any) -> dict[str, type[BaseModel]] | None:
    """{tag: model} when `tp` is a union of models told apart by their `kind`."""
    if get_origin(tp) not in (Union, types.UnionType):
        return None
    tags: dict[str, type[BaseModel]] = {}
    for member in get_args(tp):
        member = _unwrap(member)
        if member is type(None):
            continue
        if not _is_model(member) or "kind" not in _fields(member):
            return None
        kind = _unwrap(_fields(member)["kind"].annotation)
        if get_origin(kind) is not Literal:
            return None
        for value in get_args(kind):
            tags[str(value)] = member
    return tags


def locate(loc: tuple[str | int, ...], root: type[BaseModel] = Plan) -> Located:
    """Follow `loc` through the model types; drop the union tags it passes through."""
    path: list[str | int] = []
    tp: Any = root
    owner: type | None = None
    for element in loc:
        tp = _unwrap(tp) if tp is not None else None
        tags = _union_tags(tp)
        if tags is not None:
            if element in tags:
                tp = tags[element]
                continue
            tp = None
        owner = None
        if _is_model(tp) and isinstance(element, str):
            owner = tp
            field = _fields(tp).get(element)
            tp = field.annotation if field is not None else None
        elif get_origin(tp) is list and isinstance(element, int):
            tp = get_args(tp)[0]
        else:
            tp = None
            # Past the known types, keep only what can be a key or an index: pydantic
            # also puts validator names such as 'function-after[...]' into loc.
            if not (isinstance(element, int) or _NAME.match(element)):
                continue
        path.append(element)
    end_tags = _union_tags(_unwrap(tp)) if tp is not None else None
    return Located(tuple(path), owner, tuple(end_tags or ()))


def _hint(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (allowed: {', '.join(known)})" if known else ""


def _message(error: Any, located: Located) -> str:
    # Built from pydantic's type, msg and ctx only: never from `input`, which may be a secret.
    kind = error["type"]
    last = located.path[-1] if located.path else None
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"required field '{last}' is missing: add it"
    # Models say extra_forbidden; dataclasses say unexpected_keyword_argument.
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        known = list(_fields(located.owner)) if located.owner is not None else []
        return f"unknown key '{last}': remove it or fix the spelling{_hint(str(last), known)}"
    if kind == "union_tag_not_found":
        return f"'kind' is missing: set it to one of {', '.join(located.tags)}"
    if kind == "union_tag_invalid":
        tag = str(ctx.get("tag", ""))
        close = difflib.get_close_matches(tag, located.tags, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return f"unknown kind {quoted(tag)}: use one of {', '.join(located.tags)}{hint}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == SLUG_PATTERN:
        return (
            "must be a lower-case name of letters, digits, '-', '_' and '.', starting with a "
            "letter or digit, at most 63 characters"
        )
    message = str(error["msg"])
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    return message


def error_paths(exc: ValidationError) -> list[PathKey]:
    """The path into the YAML data of each of `exc`'s errors (union tags dropped)."""
    return [locate(tuple(error["loc"])).path for error in exc.errors(include_url=False)]


def validation_problems(
    exc: ValidationError, document: YamlDocument, filename: str
) -> list[Problem]:
    """One problem per pydantic error, each at the line of the field it is about."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        located = locate(tuple(error["loc"]))
        if error["type"] == "union_tag_invalid":
            # Point at the wrong 'kind: ...' line rather than at the start of the item.
            located = Located((*located.path, "kind"), located.owner, located.tags)
        problems.append(
            Problem(
                filename,
                document.line_of(located.path),
                format_path(located.path),
                _message(error, located),
            )
        )
    return problems
