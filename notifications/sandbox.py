"""A Jinja2 sandbox with limits, for templates that may be written by someone hostile.

Jinja's ImmutableSandboxedEnvironment stops attribute escapes such as
`''.__class__.__mro__`, but not denial of service: `range(10**9)`, `'x' * 10**9`,
`'x'|center(10**9)` or a string doubled in a loop would eat the worker's memory or
time. Here every loop iteration and call spends from a per-render budget (steps and
wall-clock time), and every operation that can multiply a value's size is checked
before it runs, so no single step can build a value larger than `Limits.max_value`.

Many values each under that cap still add up (a list of 10,000 strings of 99,999
characters is a gigabyte), so a render also has a memory budget (`Limits.max_built`):
what the template builds is counted as it builds it — every operator, call, filter and
slice result, every operand of `~`, and every piece of output, which `{% set %}` blocks,
macros and calls join into strings — and an operation that would turn a value into
text larger than what is left (printing or joining a long list) is refused before it
runs. The count is cumulative, so it bounds the render's peak memory too.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import Namespace
from jinja2.visitor import NodeTransformer


@dataclass(frozen=True)
class Limits:
    max_output: int = 200_000  # characters one template may produce
    max_value: int = 100_000  # characters (or items) of any value built while rendering
    max_steps: int = 50_000  # loop iterations plus calls in one render
    max_range: int = 10_000  # items of one range()
    max_seconds: float = 2.0  # wall-clock time of one render
    max_int_bits: int = 256  # size of any number computed with ** or *
    max_built: int = 8_000_000  # bytes of values and text one render may build
    max_built_total: int = 64_000_000  # the same, for all renders in flight together

    @property
    def renders_at_once(self) -> int:
        """Renders allowed in flight together, so they cannot exceed max_built_total."""
        return max(1, self.max_built_total // max(1, self.max_built))


DEFAULT_LIMITS = Limits()


class TemplateLimitError(SecurityError):
    """A template tried to do more work or build a larger value than allowed."""


class _Budget:
    __slots__ = ("deadline", "limits", "memory", "steps")

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.steps = limits.max_steps
        self.memory = limits.max_built
        self.deadline = time.monotonic() + limits.max_seconds

    def spend(self, size: int) -> None:
        """Count `size` bytes the template has built (or is about to)."""
        self.memory -= size
        if self.memory < 0:
            self._out_of_memory()

    def afford(self, size: int) -> None:
        """Refuse an operation that would build `size` bytes more than are left."""
        if size > self.memory:
            self._out_of_memory()

    def _out_of_memory(self) -> None:
        raise TemplateLimitError(
            f"the template builds more than {self.limits.max_built / 1e6:g} MB of values "
            "and text in one render"
        )

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


_CONTAINERS = str | bytes | list | tuple | dict | set | frozenset
_SLOT = 8  # bytes of one reference in a list, or of a small scalar's text


def _footprint(value: Any) -> int:
    """Bytes `value` holds itself, not what it refers to (constant time)."""
    return sys.getsizeof(value) if isinstance(value, _CONTAINERS) else 0


def _text_size(values: Iterable[Any], limit: int) -> int:
    """About len(str(v)) summed over `values`, counted only until it passes `limit`:
    a list of many references to one long string is small in memory but not as text,
    and a walk that stops at the limit stays cheap on any structure (cycles included)."""
    total = 0
    stack = list(values)
    while stack and total <= limit:
        item = stack.pop()
        total += _SLOT
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, bytes):
            total += 4 * len(item)  # shown as escapes
        elif isinstance(item, dict):
            stack.extend(item.items())
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend(item)
        elif isinstance(item, Namespace):
            stack.extend(item._Namespace__attrs.items())
    return total


class _AccountingCodeGenerator(CodeGenerator):
    """Jinja's code generator, with what the template builds reported to the budget:
    every printed value, the template text inside `{% set %}` blocks, macros and calls
    (joined into a string there), every operand of `~` before the join, and every
    slice (a copy)."""

    _buffered = False  # whether the Output being compiled is joined into a string

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:
        self._buffered = frame.buffer is not None
        super().visit_Output(node, frame)

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_pre(node, frame, finalize)
        self.write("environment.built_text(")

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write(")")
        super()._output_child_post(node, frame, finalize)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        text = super()._output_const_repr(group)
        # Template text yielded straight out is counted by the renderer (max_output);
        # inside a block, macro or call it is joined into a string here.
        return f"environment.built_text({text})" if self._buffered else text

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        # CodeGenerator.visit_Concat, each operand counted before the join builds it.
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"{join}((")
        for operand in node.nodes:
            self.write("environment.built_text(")
            self.visit(operand, frame)
            self.write("), ")
        self.write("))")

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):  # Jinja compiles slices as plain `[a:b]`
            super().visit_Getitem(node, frame)
            return
        self.write("environment.check_value(")
        super().visit_Getitem(node, frame)
        self.write(")")


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
        """`value` was just built: count it against the render's budgets."""
        _current(self.limits).spend(_footprint(value))
        size = _sized(value)
        if size > self.limits.max_value:
            raise TemplateLimitError(
                f"a value of {size} characters or items is larger than templates may build "
                f"({self.limits.max_value})"
            )
        if isinstance(value, int) and value.bit_length() > self.limits.max_int_bits:
            raise TemplateLimitError("a number is larger than templates may compute")
        return value

    def built_text(self, value: Any) -> Any:
        """`value` is about to become text (output, or an operand of `~`): count it.
        Called for nearly every piece of output, so a string takes the short way."""
        budget = _current(self.limits)
        if isinstance(value, str):
            budget.spend(len(value))
        else:
            budget.spend(_text_size((value,), budget.memory))
        return value

    def _afford_text(self, *values: Any) -> None:
        """Refuse an operation that would turn `values` into more text than is left."""
        budget = _current(self.limits)
        budget.afford(_text_size(values, budget.memory))

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
        elif operator == "%" and isinstance(left, str):
            if _WIDE_PERCENT.search(left):
                raise TemplateLimitError("a format width this large is not allowed in templates")
            self._afford_text(right)
        return self.check_value(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if owner is __self and getattr(__obj, "__name__", "") in _HOOKS:
            return __obj(*args)  # a guard _GuardLoops placed (one argument), not template work
        _current(__self.limits).tick()
        if isinstance(owner, str):
            __self._precheck_str_method(owner, getattr(__obj, "__name__", ""), args)
        return __self.check_value(super().call(__context, __obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        if _WIDE_BRACES.search(value.__self__):
            raise TemplateLimitError("a format width this large is not allowed in templates")
        format_ = wrapped

        @wraps(format_)
        def counted(*args: Any, **kwargs: Any) -> str:
            self._afford_text(*args, *kwargs.values())  # they all become text
            return format_(*args, **kwargs)

        return counted

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
            if name not in _NOT_TEXT_FILTERS:
                self._afford_text(*_filter_args(args), *kwargs.values())
            return self.check_value(func(*args, **kwargs))

        return guarded

    # ------------------------------------------------------------------ loops

    code_generator_class = _AccountingCodeGenerator

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


# The guards _GuardLoops places, called through call(): they are not template work.
_HOOKS = frozenset({"guard_iter", "check_value"})

# Filters whose result is a number, an item or a rearranged sequence of their input,
# never text made from it; every other filter may stringify its arguments (join,
# string, tojson, format, escape...), so their text size must fit the budget first.
_NOT_TEXT_FILTERS = frozenset(
    {
        "abs",
        "attr",
        "batch",
        "bool",
        "count",
        "d",
        "default",
        "dictsort",
        "first",
        "float",
        "groupby",
        "int",
        "items",
        "last",
        "length",
        "list",
        "map",
        "max",
        "min",
        "random",
        "reject",
        "rejectattr",
        "reverse",
        "round",
        "select",
        "selectattr",
        "slice",
        "sort",
        "unique",
    }
)


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
