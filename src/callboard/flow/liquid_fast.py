"""The fast path of :mod:`callboard.flow.liquid` for the templates Studio flows are made of.

A template that is only text, ``{{ }}`` outputs -- a variable (``flow.data.name``,
``widgets.http.parsed.items[0]``) or a literal, with or without filters whose arguments
are variables or literals -- and ``{% if %}``/``{% elsif %}``/``{% else %}`` blocks of
the same, is rendered here without python-liquid's render machinery (a render context,
a scope chain, an output buffer per render), with the same result.

What makes the result the same:

* the template is compiled from python-liquid's own parse tree, so parsing (whitespace
  control, string escapes, keywords as keys, errors) is python-liquid's;
* filters are the environment's own functions, called as python-liquid calls them
  (``func(value, *positional, **keyword)``); a filter that wants the render context or
  the environment, and ``date`` (it reads the execution's clock from a context
  variable), keep the template on python-liquid;
* a path is resolved in the plain dicts and lists of the context as python-liquid
  resolves it, and only where the answer is certain: a missing key or index renders as
  an empty string (python-liquid's undefined) when no filter is applied;
* conditions are python-liquid's own expression objects (so its comparison functions,
  with Callboard's, see ``install_comparisons``), evaluated against a small scope that
  resolves paths as above; only expressions made of comparisons, ``and``/``or``/``not``,
  paths and literals are taken, and no blank block (python-liquid suppresses those).

A path whose root is one of python-liquid's built-ins (``now``, ``today``, ``partial``)
keeps the template on python-liquid. Everything else makes :meth:`FastTemplate.render`
return None and the caller renders with python-liquid: ``size``/``first``/``last`` where
they are not keys, a missing value given to a filter or used as a filter argument, a filter that
raises, an output over the size limit. ``tests/flow/test_liquid_fast.py`` compares both
paths over generated templates and contexts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from liquid.builtin.content import ContentNode
from liquid.builtin.expressions.arguments import KeywordArgument, PositionalArgument
from liquid.builtin.expressions.filtered import FilteredExpression
from liquid.builtin.expressions.logical import (
    BooleanExpression,
    ContainsExpression,
    EqExpression,
    GeExpression,
    GtExpression,
    LeExpression,
    LogicalAndExpression,
    LogicalNotExpression,
    LogicalOrExpression,
    LtExpression,
    NeExpression,
)
from liquid.builtin.expressions.path import Path
from liquid.builtin.expressions.primitive import (
    Blank,
    Empty,
    FalseLiteral,
    FloatLiteral,
    IntegerLiteral,
    Nil,
    StringLiteral,
    TrueLiteral,
)
from liquid.builtin.tags.if_tag import IfNode
from liquid.environment import Environment
from liquid.template import BoundTemplate
from liquid.token import Token
from liquid.undefined import Undefined

from callboard.flow.liquid_dialect import OUTPUT_LIMIT, to_text

__all__ = ["FastTemplate", "compile_fast"]

_LITERALS = frozenset({StringLiteral, IntegerLiteral, FloatLiteral, TrueLiteral, FalseLiteral})
_SPECIAL_KEYS = frozenset({"size", "first", "last"})
_BUILTIN_ROOTS = frozenset({"now", "today", "partial", "template"})
_SLOW_FILTERS = frozenset({"date"})  # reads the execution's clock (a ContextVar)
# condition nodes whose evaluate() only calls evaluate() of their children and
# python-liquid's comparison functions (Callboard's, see install_comparisons)
_OPERATORS = frozenset(
    {
        LogicalNotExpression,
        LogicalAndExpression,
        LogicalOrExpression,
        EqExpression,
        NeExpression,
        LeExpression,
        GeExpression,
        LtExpression,
        GtExpression,
        ContainsExpression,
    }
)
_CONSTANTS = frozenset({Nil, Empty, Blank, *_LITERALS})


class _Unsure(Exception):
    """Resolved to something only python-liquid knows how to handle."""


_UNSURE = _Unsure()
_MISSING = object()  # python-liquid's undefined


class _Const:
    __slots__ = ("value",)

    def __init__(self, value: object) -> None:
        self.value = value


_Operand = tuple[str | int, ...] | _Const  # a path's segments, or a literal
_Filter = tuple[Callable[..., object], tuple[_Operand, ...], tuple[tuple[str, _Operand], ...]]


def _resolve(context: Mapping[str, Any], path: tuple[str | int, ...]) -> object:
    """The value at ``path``: _MISSING where python-liquid gives undefined, _UNSURE where
    the fast path cannot tell."""
    root = path[0]
    if root not in context:
        return _MISSING  # built-in roots are never compiled (compile_fast)
    obj: Any = context[root]  # type: ignore[index]  # the root is a name (compile_fast)
    for i in range(1, len(path)):
        key = path[i]
        t = type(obj)
        if t is dict:
            if key in obj:
                obj = obj[key]
                continue
            return _UNSURE if key in _SPECIAL_KEYS else _MISSING
        if t is list:
            if type(key) is int:
                if -len(obj) <= key < len(obj):
                    obj = obj[key]
                    continue
                return _MISSING
            return _UNSURE if key in _SPECIAL_KEYS else _MISSING
        if (obj is None or t is str or t is int or t is float or t is bool) and (
            type(key) is str and key not in _SPECIAL_KEYS
        ):
            return _MISSING
        return _UNSURE
    return obj


def _value(context: Mapping[str, Any], operand: _Operand) -> object:
    if type(operand) is _Const:
        return operand.value
    return _resolve(context, operand)  # type: ignore[arg-type]


class _Output:
    __slots__ = ("filters", "left")

    def __init__(self, left: _Operand, filters: tuple[_Filter, ...]) -> None:
        self.left = left
        self.filters = filters

    def text(self, context: Mapping[str, Any]) -> str | None:
        value = _value(context, self.left)
        if value is _UNSURE:
            return None
        if value is _MISSING:
            return None if self.filters else ""
        for func, positional, keyword in self.filters:
            args = [_value(context, a) for a in positional]
            kwargs = {name: _value(context, a) for name, a in keyword}
            if any(a is _UNSURE or a is _MISSING for a in (*args, *kwargs.values())):
                return None
            value = func(value, *args, **kwargs)
        return to_text(value)


class _If:
    """``{% if %}...{% elsif %}...{% else %}...{% endif %}`` whose blocks are fast parts;
    the conditions are python-liquid's own expressions, evaluated against a _Scope."""

    __slots__ = ("branches", "default")

    def __init__(
        self, branches: tuple[tuple[BooleanExpression, _Parts], ...], default: _Parts
    ) -> None:
        self.branches = branches
        self.default = default

    def text(self, context: Mapping[str, Any]) -> str | None:
        scope = _Scope(context)
        for condition, parts in self.branches:
            if condition.evaluate(scope):  # type: ignore[arg-type]
                return _render(parts, context)
        return _render(self.default, context)


_Parts = tuple["str | _Output | _If", ...]


def _render(parts: _Parts, context: Mapping[str, Any]) -> str | None:
    out: list[str] = []
    for part in parts:
        if type(part) is str:
            out.append(part)
            continue
        text = part.text(context)  # type: ignore[union-attr]
        if text is None:
            return None
        out.append(text)
    return "".join(out)


class _Scope:
    """What python-liquid's condition expressions need of a render context: ``get``
    for a path (raising _Unsure where the fast path cannot tell) and ``autoescape``."""

    __slots__ = ("context",)
    autoescape = False

    def __init__(self, context: Mapping[str, Any]) -> None:
        self.context = context

    def get(self, path: list[object], *, token: Token | None, default: object = None) -> object:
        value = _resolve(self.context, tuple(path))  # type: ignore[arg-type]
        if value is _UNSURE:
            raise _Unsure
        if value is _MISSING:
            return Undefined(str(path[0]), token=token)
        return value


class FastTemplate:
    """A template of text and outputs; :meth:`render` gives python-liquid's result, or
    None when only python-liquid can tell (then render ``template``)."""

    __slots__ = ("parts", "template")

    def __init__(self, parts: _Parts, template: BoundTemplate) -> None:
        self.parts = parts
        self.template = template

    def render(self, context: Mapping[str, Any]) -> str | None:
        try:
            result = _render(self.parts, context)
        except Exception:  # _Unsure, or python-liquid raises it again with its message
            return None
        if result is None:
            return None
        if len(result) * 4 > OUTPUT_LIMIT and len(result.encode("utf-8")) > OUTPUT_LIMIT:
            return None  # python-liquid's limit error
        return result


def _operand(expression: object) -> _Operand | None:
    t = type(expression)
    if t is Path:
        path = tuple(expression.path)  # type: ignore[attr-defined]
        if not path or type(path[0]) is not str or path[0] in _BUILTIN_ROOTS:
            return None
        if any(type(seg) is not str and type(seg) is not int for seg in path):
            return None  # a nested path (``a[b.c]``)
        return path
    if t in _LITERALS:
        return _Const(expression.value)  # type: ignore[attr-defined]
    if t is Nil:
        return _Const(None)
    return None


def _filter(f: Any, filters: Mapping[str, Callable[..., object]]) -> _Filter | None:
    func = filters.get(f.name)
    if (
        func is None
        or f.name in _SLOW_FILTERS
        or getattr(func, "with_context", False)
        or getattr(func, "with_environment", False)
    ):
        return None
    positional: list[_Operand] = []
    keyword: list[tuple[str, _Operand]] = []
    for arg in f.args:
        operand = _operand(arg.value)
        if operand is None:
            return None
        if type(arg) is PositionalArgument:
            positional.append(operand)
        elif type(arg) is KeywordArgument:
            keyword.append((arg.name, operand))
        else:
            return None
    return func, tuple(positional), tuple(keyword)


def _output(expression: object, filters: Mapping[str, Callable[..., object]]) -> _Output | None:
    if type(expression) is not FilteredExpression:
        return None
    left = _operand(expression.left)
    if left is None:
        return None
    compiled: list[_Filter] = []
    for f in expression.filters or ():
        one = _filter(f, filters)
        if one is None:
            return None
        compiled.append(one)
    return _Output(left, tuple(compiled))


def _condition(expression: object) -> bool:
    """Whether a condition is made only of nodes a _Scope can evaluate."""
    t = type(expression)
    if t is Path:
        return _operand(expression) is not None
    if t in _CONSTANTS:
        return True
    if t in _OPERATORS:
        children = (getattr(expression, "left", None), getattr(expression, "right", None))
        return all(c is None or _condition(c) for c in children)
    return False


def _if(node: IfNode, env: Environment, output_node: type) -> _If | None:
    if node.blank and env.suppress_blank_control_flow_blocks:
        return None  # python-liquid renders a blank block as nothing
    branches = [(node.condition, node.consequence)]
    branches += [(alt.expression, alt.block) for alt in node.alternatives]
    compiled: list[tuple[BooleanExpression, _Parts]] = []
    for condition, block in branches:
        if type(condition) is not BooleanExpression or not _condition(condition.expression):
            return None
        parts = _parts(block.nodes, env, output_node)
        if parts is None:
            return None
        compiled.append((condition, parts))
    default = _parts(node.default.nodes, env, output_node) if node.default else ()
    if default is None:
        return None
    return _If(tuple(compiled), default)


def _parts(nodes: Any, env: Environment, output_node: type) -> _Parts | None:
    parts: list[str | _Output | _If] = []
    for node in nodes:
        t = type(node)
        part: str | _Output | _If | None
        if t is ContentNode:
            part = node.text
        elif t is output_node:
            part = _output(node.expression, env.filters)
        elif t is IfNode and env.undefined is Undefined:
            part = _if(node, env, output_node)
        else:
            part = None
        if part is None:
            return None
        parts.append(part)
    return tuple(parts)


def compile_fast(
    template: BoundTemplate, output_node: type, env: Environment
) -> FastTemplate | None:
    """``template`` as a :class:`FastTemplate` when it is only text, outputs (nodes of
    type ``output_node``) and ``if`` blocks the fast path can render, else None."""
    parts = _parts(template.nodes, env, output_node)
    return FastTemplate(parts, template) if parts is not None else None
