"""What changed between two versions of a plan, in lines a program lead can read.

Works on the plans' JSON dumps, so a new plan field is described without code here.
Departments and people are described by `apply`, which knows what the store did with
them (added, restored, removed); the rest of the plan is described here.
"""

from __future__ import annotations

from typing import Any

ARROW = "→"
# Values longer than this read better as "changed" than in full (descriptions, queries).
_MAX_SHOWN = 40
_KEYS = ("name", "id", "wave")


def describe_plan_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Changes to the program, schedules, phases, gates, metrics, channels and rollout."""
    lines: list[str] = []
    old_program, new_program = dict(old.get("program", {})), dict(new.get("program", {}))
    old_schedules = old_program.pop("schedules", {})
    new_schedules = new_program.pop("schedules", {})
    lines += [f"program: {line}" for line in diff(old_program, new_program)]
    lines += [f"schedule changed: {line}" for line in diff(old_schedules, new_schedules)]
    lines += diff_named("phase", old.get("phases", []), new.get("phases", []))
    old_order = [p["name"] for p in old.get("phases", [])]
    new_order = [p["name"] for p in new.get("phases", [])]
    if [n for n in old_order if n in new_order] != [n for n in new_order if n in old_order]:
        lines.append(f"phase order changed: {f' {ARROW} '.join(new_order)}")
    lines += diff_named("gate", old.get("gates", []), new.get("gates", []))
    lines += diff_named("metric", old.get("metrics", []), new.get("metrics", []))
    lines += diff_named("channel", old.get("channels", []), new.get("channels", []))
    lines += [f"rollout: {line}" for line in diff(old.get("rollout", {}), new.get("rollout", {}))]
    return lines


def diff_named(singular: str, old: list[Any], new: list[Any], key: str = "name") -> list[str]:
    """Items of a list keyed by `key`: added, removed, and field changes of the others."""
    old_by = {item[key]: item for item in old}
    new_by = {item[key]: item for item in new}
    lines: list[str] = []
    for name, item in new_by.items():
        if name not in old_by:
            kind = f" ({item['kind']})" if "kind" in item else ""
            lines.append(f"{singular} {name} added{kind}")
        else:
            lines += [f"{singular} {name}: {line}" for line in diff(old_by[name], item)]
    lines += [f"{singular} {name} removed" for name in old_by if name not in new_by]
    return lines


def diff(old: Any, new: Any, path: str = "") -> list[str]:
    """Field-by-field differences, e.g. ['headcount 120 → 140', 'champions: added ana.ruiz']."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        lines: list[str] = []
        for key in [*new, *(k for k in old if k not in new)]:
            lines += diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return lines
    if isinstance(old, list) and isinstance(new, list):
        return _diff_list(old, new, path)
    if _is_shown(old) and _is_shown(new):
        return [f"{path} {_show(old)} {ARROW} {_show(new)}"]
    return [f"{path} changed"]


def _diff_list(old: list[Any], new: list[Any], path: str) -> list[str]:
    if all(_is_scalar(v) for v in [*old, *new]):
        added = [_show(v) for v in new if v not in old]
        removed = [_show(v) for v in old if v not in new]
        parts = [f"added {', '.join(added)}"] if added else []
        parts += [f"removed {', '.join(removed)}"] if removed else []
        return [f"{path}: {'; '.join(parts)}" if parts else f"{path} reordered"]
    key = next(
        (k for k in _KEYS if all(isinstance(v, dict) and k in v for v in [*old, *new])), None
    )
    if key is None:
        return [f"{path} changed"]
    lines = diff_named(path, old, new, key=key)
    old_keys = [v[key] for v in old]
    new_keys = [v[key] for v in new]
    if not lines and old_keys != new_keys:
        lines.append(f"{path} reordered")
    return lines


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _is_shown(value: Any) -> bool:
    return _is_scalar(value) and len(_show(value)) <= _MAX_SHOWN


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
