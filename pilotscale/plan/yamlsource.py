"""Read a plan's YAML into plain data plus the line of every field, safely.

PyYAML's `yaml.load` loses line numbers, silently keeps the last of two equal
keys and expands alias bombs into memory. Here the document is only *composed*
(SafeLoader's node graph), checked for size, depth and alias expansion while it
is composed, and then turned into plain data by hand, so every problem gets the
line where it is written and hostile input fails fast with one clear problem.
"""

from __future__ import annotations

import bisect
import codecs
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from pilotscale.plan.problems import PathKey, PlanError, Problem, format_path, quoted

MAX_BYTES = 5 * 1024 * 1024
# Counted with every alias expanded: a plan of 50 departments stays far below this,
# while "billion laughs" passes it within a few lines and stops there.
MAX_VALUES = 100_000
MAX_DEPTH = 64

_TOO_MANY_VALUES = (
    f"the plan holds more than {MAX_VALUES:,} values once its YAML aliases ('*name') are "
    "expanded; a rollout plan needs far fewer: remove the repeated aliases"
)

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


@dataclass(frozen=True)
class YamlDocument:
    """The plan as plain Python data, and the 1-based line of each path in it."""

    data: dict[str, Any]
    lines: dict[PathKey, int]
    text: str

    def line_of(self, path: PathKey) -> int:
        """The line of `path`, or of its nearest ancestor that is written in the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1


class _Stop(Exception):
    """A problem after which reading on would be pointless or unsafe."""

    def __init__(self, line: int, message: str, path: PathKey = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path


def _mark_line(mark: Any) -> int:
    """The line a person sees in an editor. YAML also breaks lines at NEL, LS and PS
    (U+0085, U+2028, U+2029), which editors and `wc -l` do not: in a text holding one,
    lines are counted again from the breaks a person sees (CR LF, CR, LF)."""
    if mark is None:
        return 1
    buffer = getattr(mark, "buffer", None)
    index = getattr(mark, "index", None)
    if isinstance(buffer, str) and isinstance(index, int):
        breaks = _visible_breaks(buffer)
        if breaks is not None:
            return bisect.bisect_left(breaks, index) + 1
    return int(mark.line) + 1


@lru_cache(maxsize=4)
def _visible_breaks(text: str) -> list[int] | None:
    """Where the breaks a person sees start, if `text` holds a break only YAML sees."""
    if not any(odd in text for odd in _YAML_ONLY_BREAKS):
        return None
    return [m.start() for m in _VISIBLE_BREAK.finditer(text)]


_YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")
_VISIBLE_BREAK = re.compile(r"\r\n|\r|\n")


def _line(node: Node | None) -> int:
    return _mark_line(node.start_mark if node is not None else None)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer measures each node as if every alias were expanded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) expanded
        self._nodes: list[Node] = []  # keeps ids in _sizes from being reused
        # Values composed so far, aliases expanded: checked as each value arrives, so a
        # huge document stops at the limit instead of after the list that holds it.
        self._total = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            if node is None or id(node) not in self._sizes:
                raise _Stop(
                    _mark_line(event.start_mark),
                    f"the alias '*{event.anchor}' refers to the value that contains it, "
                    "which never ends: copy the values instead of the alias",
                )
            self._count(self._sizes[id(node)][0], event)
            return node
        if self._depth >= MAX_DEPTH:
            raise _Stop(
                _mark_line(event.start_mark),
                f"the plan is nested more than {MAX_DEPTH} levels deep here; "
                "a rollout plan needs far fewer: flatten this part",
            )
        self._count(1, event)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            self._measure(node)
        return node

    def _count(self, values: int, event: Any) -> None:
        self._total += values
        if self._total > MAX_VALUES:
            raise _Stop(_mark_line(event.start_mark), _TOO_MANY_VALUES)

    def _measure(self, node: Node) -> None:
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [part for pair in node.value for part in pair]
        values, depth = 1, 1
        for child in children:
            child_values, child_depth = self._sizes[id(child)]
            values += child_values
            depth = max(depth, child_depth + 1)
        if values > MAX_VALUES:
            raise _Stop(_line(node), _TOO_MANY_VALUES)
        if depth > MAX_DEPTH:
            raise _Stop(
                _line(node),
                f"the plan is nested more than {MAX_DEPTH} levels deep once its YAML aliases "
                "('*name') are expanded: copy the values instead of nesting aliases",
            )
        self._sizes[id(node)] = (values, depth)
        self._nodes.append(node)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, date | datetime):
        return "a date"
    return f"a {type(value).__name__}"


class _Converter:
    """Nodes to plain data, recording lines and collecting every problem it meets."""

    def __init__(self, loader: _Loader, filename: str) -> None:
        self.loader = loader
        self.filename = filename
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []

    def problem(self, line: int, path: PathKey, message: str) -> None:
        self.problems.append(Problem(self.filename, line, format_path(path), message))

    def value(self, node: Node, path: PathKey) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if isinstance(node, SequenceNode):
            if node.tag != _SEQ_TAG:
                self.unsupported_tag(node, path)
                return None
            items = []
            for index, item in enumerate(node.value):
                self.lines[(*path, index)] = _line(item)
                items.append(self.value(item, (*path, index)))
            return items
        if isinstance(node, MappingNode):
            if node.tag != _MAP_TAG:
                self.unsupported_tag(node, path)
                return None
            return self.mapping(node, path)
        raise TypeError(f"unexpected YAML node {type(node).__name__}")  # pragma: no cover

    def unsupported_tag(self, node: Node, path: PathKey) -> None:
        self.problem(
            _line(node),
            path,
            f"the YAML tag {quoted(node.tag)} is not supported in a plan: remove it",
        )

    def scalar(self, node: ScalarNode, path: PathKey) -> Any:
        if node.tag == _MERGE_TAG:  # a plain '<<' anywhere but as a key is just text
            return str(node.value)
        try:
            return self.loader.construct_object(node, deep=True)
        except ConstructorError:
            self.unsupported_tag(node, path)
        except (ValueError, OverflowError, TypeError):
            if node.tag == _TIMESTAMP_TAG:
                message = "not a valid date: write it as YYYY-MM-DD, e.g. 2026-03-31"
            else:
                kind = node.tag.rsplit(":", 1)[-1]
                message = f"this value cannot be read as {kind}: fix or quote it"
            self.problem(_line(node), path, message)
        return None

    def key(self, node: Node, path: PathKey) -> str | None:
        if not isinstance(node, ScalarNode):
            self.problem(_line(node), path, "a key must be a name, not a list or a mapping")
            return None
        value = self.scalar(node, path)
        if isinstance(value, str):
            return value
        raw = str(node.value)
        if raw:
            self.problem(
                _line(node),
                (*path, raw),
                f"the key '{raw}' is read as {_describe(value)}, not as a name: "
                f"quote it ('{raw}':)",
            )
        else:
            self.problem(_line(node), path, "a key is empty: write a name before the ':'")
        return None

    def mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[Node] = []
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
        # Merged ('<<: *defaults') keys first, so the keys written here override them.
        for merge in reversed(merges):
            result.update(self.merged(merge, path))
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            line = _line(key_node)
            if key in first_line:
                self.problem(
                    line,
                    (*path, key),
                    f"the key {quoted(key)} appears twice in this mapping (first at line "
                    f"{first_line[key]}); YAML would silently keep only the last one: "
                    "remove or rename one of them",
                )
                continue
            first_line[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.value(value_node, (*path, key))
        return result

    def merged(self, node: Node, path: PathKey) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        result: dict[str, Any] = {}
        for source in reversed(sources):  # the first source listed wins
            if isinstance(source, MappingNode) and source.tag == _MAP_TAG:
                result.update(self.mapping(source, path))
            else:
                self.problem(
                    _line(source), path, "'<<' merges a mapping or a list of mappings only"
                )
        return result


def decode(raw: bytes) -> str:
    """UTF-8 text (an initial BOM is allowed), or PlanError naming the bad byte."""
    offset = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[offset:].decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = offset + exc.start
        line = raw.count(b"\n", 0, bad) + 1
        raise _Stop(
            line,
            f"byte 0x{raw[bad]:02x} at offset {bad} is not valid UTF-8: save the file as UTF-8",
        ) from None


def parse_yaml(raw: bytes | str, filename: str) -> YamlDocument:
    """Parse one plan document; raise PlanError with every problem found in the YAML."""
    try:
        return _parse(raw, filename)
    except _Stop as stop:
        raise PlanError(
            [Problem(filename, stop.line, format_path(stop.path), stop.message)]
        ) from None


def _parse(raw: bytes | str, filename: str) -> YamlDocument:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > MAX_BYTES:
        raise _Stop(
            1,
            f"the file is larger than {MAX_BYTES:,} bytes, the most a plan may be: "
            "check that this is the right file",
        )
    text = decode(data)
    try:
        loader = _Loader(text)
    except ReaderError as exc:
        raise _Stop(
            text.count("\n", 0, exc.position) + 1,
            f"the character U+{int(exc.character):04X} at offset {exc.position} is not allowed "
            "in YAML: remove it",
        ) from None
    try:
        root = _compose_single(loader)
        converter = _Converter(loader, filename)
        converter.lines[()] = _line(root)
        data_out = converter.value(root, ())
    except yaml.MarkedYAMLError as exc:
        raise _Stop(*_syntax_problem(exc)) from None
    except RecursionError:
        raise _Stop(
            _mark_line(loader.get_mark()),
            "the plan is nested too deeply to read: flatten this part",
        ) from None
    finally:
        loader.dispose()
    if converter.problems:
        raise PlanError(converter.problems)
    return YamlDocument(data=data_out, lines=converter.lines, text=text)


def _compose_single(loader: _Loader) -> MappingNode:
    loader.get_event()  # stream start
    if loader.check_event(StreamEndEvent):
        raise _Stop(1, "the plan is empty: start from `pilotscale schema` or an example plan")
    root = loader.compose_document()
    if not loader.check_event(StreamEndEvent):
        raise _Stop(
            _mark_line(loader.peek_event().start_mark),
            "a plan file holds one YAML document, and a second one starts here: "
            "remove the '---' and what follows, or move it to its own file",
        )
    if isinstance(root, ScalarNode) and root.tag == "tag:yaml.org,2002:null":
        raise _Stop(1, "the plan is empty: start from `pilotscale schema` or an example plan")
    if not isinstance(root, MappingNode) or root.tag != _MAP_TAG:
        found = "a list" if isinstance(root, SequenceNode) else "a single value"
        raise _Stop(
            _line(root),
            f"the plan must be a mapping of keys such as 'program:', 'people:', 'phases:', "
            f"'gates:' and 'departments:', but the file holds {found}",
        )
    return root


_DUPLICATE_ANCHOR = re.compile(r"^found duplicate anchor '(.*)'; first occurrence$")
_UNDEFINED_ALIAS = re.compile(r"^found undefined alias '(.*)'$")


def _syntax_problem(exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    line = _mark_line(exc.problem_mark or exc.context_mark)
    duplicate = _DUPLICATE_ANCHOR.match(exc.context or "")
    if duplicate:
        return line, (
            f"the anchor '&{duplicate.group(1)}' is defined twice (first at line "
            f"{_mark_line(exc.context_mark)}): rename one of them and its aliases"
        )
    undefined = _UNDEFINED_ALIAS.match(exc.problem or "")
    if undefined:
        name = undefined.group(1)
        return line, (
            f"the alias '*{name}' has no anchor '&{name}' before it: "
            "define the anchor first or fix the name"
        )
    # Only PyYAML's own wording, never str(exc): that quotes the offending line,
    # which may hold a secret.
    what = exc.problem or exc.context or "invalid YAML"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    return line, f"YAML syntax error: {what}{context}; check indentation, quotes and ':' here"
