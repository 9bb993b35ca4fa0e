"""The import graph of pilotscale, read from the source: no cycle, no import from a lower
layer to a higher one, and no two modules with the same name (docs/architecture.md).

Imports inside functions count too: they are still a dependency, only a later one.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module belongs to the longest prefix that names it; it may import its own
# layer and any lower one. docs/architecture.md shows this same table (checked below).
LAYERS: dict[str, int] = {
    "pilotscale": 0,  # the package itself: nothing in it
    "pilotscale.settings": 0,
    "pilotscale.redact": 0,
    "pilotscale.secrets": 0,
    "pilotscale.gcpause": 0,
    "pilotscale.memory": 0,
    "pilotscale.links": 0,
    "pilotscale.plan": 1,
    "pilotscale.core": 2,
    "pilotscale.metrics": 3,
    "pilotscale.notifications": 3,
    "pilotscale.models": 4,
    "pilotscale.db": 4,
    "pilotscale.migrations": 4,
    "pilotscale.store": 5,
    "pilotscale.engine": 6,
    "pilotscale.report": 6,
    "pilotscale.tasks": 7,
    "pilotscale.flows": 8,
    "pilotscale.deployments": 9,
    "pilotscale.cli": 10,
    "pilotscale.demo": 10,
    "pilotscale.demo_links": 10,
    "pilotscale.web": 10,
}

# Lower, yet still out of bounds: the store holds rows and queries, it never renders or
# routes a message (pilotscale.engine.enqueue does, then hands the store its rows).
FORBIDDEN: dict[str, tuple[str, ...]] = {"pilotscale.store": ("pilotscale.notifications",)}

# Files that are not modules anyone imports: Alembic loads the revisions by path.
NOT_MODULES = ("pilotscale/migrations/versions/",)
# Names a package needs more than once by convention, not by choice.
SHARED_NAMES = {"__init__", "__main__"}


def package_dirs() -> dict[str, Path]:
    """Package name -> folder, as pyproject installs them (pilotscale.flows is flows/)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in config["package-dir"].items()}


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in package_dirs().items():
        for path in sorted(folder.rglob("*.py")):
            if any(part in path.as_posix() for part in NOT_MODULES):
                continue
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join([package, *parts])
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The pilotscale modules `name` imports anywhere in its source."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                # `from package import module` depends on the module, not just the package
                child = f"{module}.{alias.name}"
                found.add(child if child in known else module)
    return {m for m in found if m == "pilotscale" or m.startswith("pilotscale.")}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    edges: dict[str, set[str]] = {}
    for name, path in found.items():
        targets = imports_of(name, path, known)
        unknown = targets - known
        assert not unknown, f"{name} imports modules that do not exist: {sorted(unknown)}"
        edges[name] = targets - {name}
    return edges


def layer_of(module: str) -> tuple[str, int]:
    prefixes = [p for p in LAYERS if module == p or module.startswith(p + ".")]
    assert prefixes, f"{module} is in no layer: add its prefix to LAYERS and the docs"
    prefix = max(prefixes, key=len)
    return prefix, LAYERS[prefix]


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(edges.items()):
        _, mine = layer_of(module)
        for target in sorted(targets):
            prefix, theirs = layer_of(target)
            if theirs > mine:
                found.append(f"{module} (layer {mine}) imports {target} ({prefix}, layer {theirs})")
    return found


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_every_module_is_in_a_layer() -> None:
    for module in modules():
        layer_of(module)


def test_imports_only_point_down() -> None:
    found = upward_imports(graph())
    assert not found, "upward imports:\n" + "\n".join(found)


def test_the_store_neither_renders_nor_routes() -> None:
    found = [
        f"{module} imports {target}"
        for module, targets in sorted(graph().items())
        for importer, banned in FORBIDDEN.items()
        if module == importer or module.startswith(importer + ".")
        for target in sorted(targets)
        if any(target == b or target.startswith(b + ".") for b in banned)
    ]
    assert not found, "\n".join(found)


def test_no_import_cycle() -> None:
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c) for c in found)


def test_no_two_modules_share_a_name() -> None:
    names = Counter(path.stem for path in modules().values() if path.stem not in SHARED_NAMES)
    assert sorted(name for name, count in names.items() if count > 1) == []


def test_the_docs_show_the_same_layers() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    shown = {
        prefix: int(layer)
        for layer, prefixes in re.findall(r"^\| (\d+) \| ([^|]+) \|", page, re.MULTILINE)
        for prefix in re.findall(r"`(pilotscale[\w.]*)`", prefixes)
    }
    assert shown == LAYERS


# The checks themselves, on graphs made up for the purpose: a passing suite must mean
# the tree is clean, not that the checks see nothing.


def test_an_upward_import_is_reported() -> None:
    edges = {
        "pilotscale.store.outbox": {"pilotscale.engine.enqueue"},
        "pilotscale.engine.enqueue": set(),
    }
    assert upward_imports(edges) == [
        "pilotscale.store.outbox (layer 5) imports pilotscale.engine.enqueue "
        "(pilotscale.engine, layer 6)"
    ]


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_a_cycle_is_reported_with_its_modules(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert cycles(edges) == expected
