"""A small, safe evaluator for the ``expr`` expectation: arithmetic, comparisons and boolean
logic over a run's metrics, and nothing else.

The text is parsed with ``ast`` and walked by our own interpreter (Python's ``eval`` is never
called), so there is no attribute access, no imports, no lambdas and no way to reach
builtins beyond ``abs``, ``len``, ``max``, ``min`` and ``round``. Numbers are kept exact:
floats (literals and metric values) become Decimals and ``/`` between integers gives a
Decimal, so money never passes through binary floating point.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

FUNCTIONS: dict[str, Callable[..., Any]] = {"abs": abs, "len": len, "max": max, "min": min, "round": round}
MAX_EXPONENT = 64
MAX_LENGTH = 2_000

_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_REFUSED: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is",
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.NamedExpr: "assignments (:=) are",
    ast.Starred: "* unpacking is",
    ast.Slice: "slices are",
    ast.JoinedStr: "f-strings are",
    ast.Await: "await is",
    ast.IfExp: "conditional expressions are",
    ast.Dict: "dict literals are",
    ast.Set: "set literals are",
}


class ExprError(ValueError):
    """The expression is not allowed, or could not be evaluated; the message says why."""


def _number(value: Any) -> Any:
    """Floats become Decimals (through their repr) so mixed arithmetic stays exact."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float)


def parse(text: str) -> ast.Expression:
    """Parse and vet ``text``; raises ExprError naming the first construct that is refused."""
    if not isinstance(text, str) or not text.strip():
        raise ExprError("expected a non-empty expression string")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExprError(f"syntax error at column {exc.offset}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError("expression nested too deeply") from None
    for node in ast.walk(tree):
        _vet(node)
    return tree


def _vet(node: ast.AST) -> None:
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = ast.unparse(node.func)
            raise ExprError(f"call to '{called}' is not allowed (allowed: {', '.join(sorted(FUNCTIONS))})")
        if node.keywords:
            raise ExprError(f"keyword arguments are not allowed (in '{ast.unparse(node)}')")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise ExprError(f"name '{node.id}' is not allowed")
        return
    if isinstance(node, ast.Constant):
        if not isinstance(node.value, int | float | str | bool) and node.value is not None:
            raise ExprError(f"constant {node.value!r} is not allowed")
        return
    if isinstance(node, ast.BinOp) and type(node.op) not in _ARITH:
        raise ExprError(f"operator '{ast.unparse(node)}' is not allowed")
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, ast.Not | ast.USub | ast.UAdd):
        raise ExprError(f"operator in '{ast.unparse(node)}' is not allowed")
    allowed = (
        ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.Compare, ast.BinOp, ast.UnaryOp,
        ast.Subscript, ast.List, ast.Tuple, ast.Load, ast.operator, ast.unaryop, ast.cmpop,
    )  # fmt: skip
    if isinstance(node, allowed):
        return
    what = _REFUSED.get(type(node), f"{type(node).__name__} is")
    source = ast.unparse(node) if isinstance(node, ast.expr) else ""
    raise ExprError(f"{what} not allowed" + (f" ('{source}')" if source else ""))


def names_used(tree: ast.Expression) -> list[str]:
    """Names the expression reads (not the functions it calls), in first-use order."""
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and id(node) not in called:
            seen.setdefault(node.id, None)
    return list(seen)


def evaluate(tree: ast.Expression, names: Mapping[str, Any]) -> Any:
    """Evaluate a vetted tree against ``names``; every failure is an ExprError."""
    try:
        return _eval(tree.body, names)
    except ExprError:
        raise
    except RecursionError:
        raise ExprError("expression nested too deeply") from None
    except (TypeError, ValueError, ArithmeticError, KeyError, IndexError) as exc:
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise ExprError(f"evaluation failed: {detail}") from None


def _eval(node: ast.expr, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return _number(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(k for k in names if k.isidentifier())) or "none"
            raise ExprError(f"unknown name '{node.id}' (known: {known})")
        return _number(names[node.id])
    if isinstance(node, ast.BoolOp):
        result: Any = None
        for operand in node.values:
            result = _eval(operand, names)
            if isinstance(node.op, ast.And) != bool(result):
                return result
        return result
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, names)
        if isinstance(node.op, ast.Not):
            return not value
        if not _is_number(value):
            raise ExprError(f"'{ast.unparse(node)}': not a number ({value!r})")
        return -value if isinstance(node.op, ast.USub) else +value
    if isinstance(node, ast.BinOp):
        return _binop(node, _eval(node.left, names), _eval(node.right, names))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, names)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Subscript):
        container = _eval(node.value, names)
        key = _eval(node.slice, names)
        if not isinstance(container, Mapping | list | tuple | str):
            raise ExprError(f"'{ast.unparse(node.value)}' cannot be indexed ({type(container).__name__})")
        return _number(container[key])
    if isinstance(node, ast.List | ast.Tuple):
        return [_eval(element, names) for element in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [_eval(arg, names) for arg in node.args]
        return _number(FUNCTIONS[node.func.id](*args))
    raise ExprError(f"'{ast.unparse(node)}' is not allowed")


def _binop(node: ast.BinOp, left: Any, right: Any) -> Any:
    if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (_is_number(left) and _is_number(right)):
        raise ExprError(f"'{ast.unparse(node)}': arithmetic needs numbers, got {left!r} and {right!r}")
    left, right = _number(left), _number(right)
    if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod) and right == 0:
        raise ExprError(f"'{ast.unparse(node)}': division by zero")
    if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
        raise ExprError(f"'{ast.unparse(node)}': exponent above {MAX_EXPONENT}")
    if isinstance(node.op, ast.Div) and not isinstance(left, Decimal) and not isinstance(right, Decimal):
        left = Decimal(left)
    return _number(_ARITH[type(node.op)](left, right))
