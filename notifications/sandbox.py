"""A Jinja2 sandbox with limits, for templates that may be written by someone hostile.

Jinja's ImmutableSandboxedEnvironment stops attribute escapes such as
`''.__class__.__mro__`, but not denial of service: `range(10**9)`, `'x' * 10**9`,
`'x'|center(10**9)` or a string doubled in a loop would eat the worker's memory or
time. Here every loop iteration and call spends from a per-render budget (steps and
wall-clock time), and every operation that can multiply a value's size is checked
before it runs, so no single step can build a value larger than `Limits.max_value`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.visitor import NodeTransformer


@dataclass(frozen=True)
class Limits:
    max_output: int = 200_000  # characters one template may produce
    max_value: int = 100_000  # characters (or items) of any value built while rendering
    max_steps: int = 50_000  # loop iterations plus calls in one render
    max_range: int = 10_000  # items of one range()
    max_seconds: float = 2.0  # wall-clock time of one render
    max_int_bits: int = 256  # size of any number computed with ** or *


DEFAULT_LIMITS = Limits()


class TemplateLimitError(SecurityError):
    """A template tried to do more work or build a larger value than allowed."""


class _Budget:
    __slots__ = ("deadline", "limits", "steps")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = limits.max_steps
        self.deadline = time.monotonic() + limits.max_seconds

    def tick(self) -> None:
        self.steps -= 1
        if self.steps < 0:
            raise TemplateLimitError(
                f"the template does too much work (more than {self.limits.max_steps} loop "
                "iterations and calls)"
            )
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(
                f"the template took longer than {self.limits.max_seconds:g}s to render"
            )


_local = threading.local()


class budget_scope:
    """Installs a fresh budget for one render on this thread."""

    def __init__(self, limits: Limits) -> None:
        self._budget = _Budget(limits)

    def __enter__(self) -> _Budget:
        self._previous = getattr(_local, "budget", None)
        _local.budget = self._budget
        return self._budget

    def __exit__(self, *exc: object) -> None:
        _local.budget = self._previous


def _current(limits: Limits) -> _Budget:
    budget: _Budget | None = getattr(_local, "budget", None)
    return budget if budget is not None else _Budget(limits)


# A width or precision of six digits or more, or one taken from the arguments (`*`, `{}`).
_WIDE_PERCENT = re.compile(r"%(\([^)]*\))?[-#0 +]*(\*|\d{6,}|\.\*|\.\d{6,})")
_WIDE_BRACES = re.compile(r"\{[^{}]*:[^{}]*(\d{6,}|\{)")


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict | set) else 0


class LimitedSandbox(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment plus the limits above."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *args: Any, limits: Limits = DEFAULT_LIMITS, **kwargs: Any) -> None:
        # No constant folding: it would run filters at compile time, outside the budget.
        kwargs.setdefault("optimized", False)
        super().__init__(*args, **kwargs)
        self.limits = limits
        for name in ("lipsum",):  # unbounded text generators
            self.globals.pop(name, None)
        self.globals["range"] = self._range
        self.filters = {name: self._guard_filter(name, f) for name, f in self.filters.items()}

    # ------------------------------------------------------------------ values

    def check_value(self, value: Any) -> Any:
        size = _sized(value)
        if size > self.limits.max_value:
            raise TemplateLimitError(
                f"a value of {size} characters or items is larger than templates may build "
                f"({self.limits.max_value})"
            )
        if isinstance(value, int) and value.bit_length() > self.limits.max_int_bits:
            raise TemplateLimitError("a number is larger than templates may compute")
        return value

    def _expect(self, size: int) -> None:
        if size > self.limits.max_value:
            raise TemplateLimitError(
                f"this would build a value of {size} characters or items, more than templates "
                f"may build ({self.limits.max_value})"
            )

    def _range(self, *args: int) -> range:
        result = range(*args)
        if len(result) > self.limits.max_range:
            raise TemplateLimitError(
                f"range() of {len(result)} items is larger than templates may use "
                f"({self.limits.max_range})"
            )
        return result

    # ------------------------------------------------------------------ operators

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _current(self.limits).tick()
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if _sized(seq) and isinstance(count, int):
                    self._expect(_sized(seq) * count)
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and max(left.bit_length(), 1) * right > self.limits.max_int_bits:
                raise TemplateLimitError("a number is larger than templates may compute")
        elif operator == "+" and _sized(left) and _sized(right):
            self._expect(_sized(left) + _sized(right))
        elif operator == "%" and isinstance(left, str) and _WIDE_PERCENT.search(left):
            raise TemplateLimitError("a format width this large is not allowed in templates")
        return self.check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _current(__self.limits).tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            __self._precheck_str_method(owner, getattr(__obj, "__name__", ""), args)
        return __self.check_value(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        if _WIDE_BRACES.search(value.__self__):
            raise TemplateLimitError("a format width this large is not allowed in templates")
        return wrapped

    def _precheck_str_method(self, text: str, name: str, args: tuple[Any, ...]) -> None:
        ints = [a for a in args if isinstance(a, int)]
        if name in ("center", "ljust", "rjust", "zfill") and ints:
            self._expect(ints[0])
        elif name == "expandtabs" and ints:
            self._expect(len(text) + text.count("\t") * ints[0])
        elif name == "replace" and len(args) >= 2:
            self._expect(_replaced_size(text, str(args[0]), str(args[1])))
        elif name == "join" and args:
            raise TemplateLimitError("str.join is not allowed in templates; use the join filter")

    # ------------------------------------------------------------------ filters

    def _guard_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        precheck = _FILTER_PRECHECKS.get(name)

        @wraps(func)  # keeps jinja's pass_context / pass_environment marker
        def guarded(*args: Any, **kwargs: Any) -> Any:
            _current(self.limits).tick()
            if precheck is not None:
                precheck(self, _filter_args(args), kwargs)
            return self.check_value(func(*args, **kwargs))

        return guarded

    # ------------------------------------------------------------------ loops

    def guard_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _current(self.limits)
        for item in iterable:
            budget.tick()
            yield item

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        # Every loop iterates through guard_iter and every `~` concatenation is size
        # checked; the template author cannot name these nodes, so cannot remove them.
        guarded = _GuardLoops(self).visit(source)
        return super()._generate(guarded, name, filename, defer_init=defer_init)


def _filter_args(args: tuple[Any, ...]) -> tuple[Any, ...]:
    # Filters marked pass_context / pass_eval_context / pass_environment get that first.
    if args and isinstance(args[0], Context | nodes.EvalContext | ImmutableSandboxedEnvironment):
        return args[1:]
    return args


def _replaced_size(text: str, old: str, new: str) -> int:
    count = len(text) + 1 if old == "" else text.count(old)
    return len(text) + count * (len(new) - len(old))


def _check_width(env: LimitedSandbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = kwargs.get("width", args[1] if len(args) > 1 else 0)
    if isinstance(width, int):
        env._expect(width)


def _check_indent(env: LimitedSandbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = kwargs.get("width", args[1] if len(args) > 1 else 4)
    text = str(args[0]) if args else ""
    per_line = width if isinstance(width, int) else len(str(width))
    env._expect(len(text) + (text.count("\n") + 1) * per_line)


def _check_replace(env: LimitedSandbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if len(args) >= 3:
        env._expect(_replaced_size(str(args[0]), str(args[1]), str(args[2])))


def _check_join(env: LimitedSandbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if not args:
        return
    separator = str(kwargs.get("d", args[1] if len(args) > 1 else ""))
    items = args[0]
    count = len(items) if hasattr(items, "__len__") else env.limits.max_range
    env._expect(count * len(separator))


def _check_wordwrap(env: LimitedSandbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    wrapstring = kwargs.get("wrapstring", args[3] if len(args) > 3 else "\n") or "\n"
    text = str(args[0]) if args else ""
    env._expect(len(text) * (1 + len(str(wrapstring))))


def _check_format(env: LimitedSandbox, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if args and isinstance(args[0], str) and _WIDE_PERCENT.search(args[0]):
        raise TemplateLimitError("a format width this large is not allowed in templates")


_FILTER_PRECHECKS: dict[str, Callable[[LimitedSandbox, tuple[Any, ...], dict[str, Any]], None]] = {
    "center": _check_width,
    "indent": _check_indent,
    "replace": _check_replace,
    "join": _check_join,
    "wordwrap": _check_wordwrap,
    "format": _check_format,
}


class _GuardLoops(NodeTransformer):
    def __init__(self, environment: LimitedSandbox) -> None:
        self.environment = environment

    def _wrap(self, attribute: str, node: nodes.Node) -> nodes.Expr:
        call = nodes.Call(nodes.EnvironmentAttribute(attribute), [node], [], None, None)
        call.set_lineno(node.lineno)
        call.set_environment(self.environment)
        return call

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = self._wrap("guard_iter", node.iter)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return self._wrap("check_value", node)
