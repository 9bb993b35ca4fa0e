"""The part of a plan the schema accepts, so cross-checks can run despite schema errors.

`validate` promises every problem in one run. Cross-checks need a `Plan`, which a plan
with a schema error does not give, so the parts the schema refused are cut away (the
smallest part each error is about; a part whose removal leaves a required field missing
goes next, up to the whole list item) until what is left validates. Cross-checks then
run on that, their paths are mapped back to the file, and findings about what was cut
away are dropped: they would repeat a schema problem in other words ("unknown person
'Bad Id'" after "id: must be a slug").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from pilotscale.plan.problems import PathKey, quoted
from pilotscale.plan.schema import Plan

# Each round cuts at least one part; a plan needing more rounds than this is too broken
# for cross-checks to say anything useful.
MAX_ROUNDS = 50
_NAME_KEYS = ("id", "name")


class Salvage:
    """`data` with the parts at `removed` (paths into the original data) cut away."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self.removed: set[PathKey] = set()
        # Surviving indices per list, so mapping thousands of paths stays linear.
        self._kept: dict[PathKey, list[int]] = {}

    def pruned(self) -> Any:
        return self._copy(self.data, ())

    def _copy(self, node: Any, at: PathKey) -> Any:
        if isinstance(node, dict):
            return {
                key: self._copy(value, (*at, key))
                for key, value in node.items()
                if (*at, key) not in self.removed
            }
        if isinstance(node, list):
            return [
                self._copy(item, (*at, index))
                for index, item in enumerate(node)
                if (*at, index) not in self.removed
            ]
        return node

    def original(self, path: PathKey) -> PathKey:
        """A path into the pruned data as a path into the original data."""
        node: Any = self.data
        at: PathKey = ()
        out: list[str | int] = []
        for part in path:
            if isinstance(node, list) and isinstance(part, int):
                kept = self._kept.get(at)
                if kept is None:
                    kept = [i for i in range(len(node)) if (*at, i) not in self.removed]
                    self._kept[at] = kept
                if part >= len(kept):
                    return (*out, *path[len(out) :])
                part = kept[part]
            out.append(part)
            at = tuple(out)
            node = _child(node, part)
        return tuple(out)

    def cut(self, path: PathKey) -> bool:
        """Cut the deepest part of the original data on `path`; False when that is the root."""
        node: Any = self.data
        deepest: PathKey = ()
        for part in path:
            child = _child(node, part)
            if child is _MISSING or (*deepest, part) in self.removed:
                break
            deepest, node = (*deepest, part), child
        if not deepest:
            return False
        self.removed.add(deepest)
        self._kept.clear()
        return True

    def names_cut(self) -> set[str]:
        """The ids and names of what was cut away: findings quoting them are echoes."""
        names: set[str] = set()
        for path in self.removed:
            node: Any = self.data
            for part in path:
                node = _child(node, part)
            if isinstance(node, dict):
                names.update(str(node[k]) for k in _NAME_KEYS if isinstance(node.get(k), str))
            elif path and path[-1] in _NAME_KEYS and isinstance(node, str):
                names.add(node)
        return names


_MISSING = object()


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part, _MISSING)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _MISSING


def salvage(
    data: Any,
    first: ValidationError,
    paths_of: Callable[[ValidationError], Iterable[PathKey]],
) -> tuple[Plan, Salvage] | None:
    """The largest part of `data` found to validate, after `first` (its full validation
    error); None when only cutting the whole plan would do."""
    if not isinstance(data, dict):
        return None
    parts = Salvage(data)
    error = first
    for _ in range(MAX_ROUNDS):
        cut_any = False
        # Map every path before cutting any: a cut renumbers the list it is in.
        for path in [parts.original(p) for p in paths_of(error)]:
            cut_any |= parts.cut(path)
        if not cut_any:
            return None
        try:
            return Plan.model_validate(parts.pruned()), parts
        except ValidationError as exc:
            error = exc
    return None


def echoes(message: str, names: set[str]) -> bool:
    """Whether `message` is about something cut away (it quotes its id or name)."""
    return any(quoted(name) in message for name in names)
