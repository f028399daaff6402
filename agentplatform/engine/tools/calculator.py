"""Safe arithmetic by walking the `ast` of an expression; nothing is ever `eval`-ed."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from agentplatform.core.errors import ToolError
from agentplatform.engine.tools.base import Tool

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 10_000
MAX_INT_BITS = 3_400  # about 1,000 decimal digits

Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int]] = {
    # name: (function, min args, max args)
    "sqrt": (math.sqrt, 1, 1),
    "abs": (abs, 1, 1),
    "round": (round, 1, 2),
    "min": (min, 1, 20),
    "max": (max, 1, 20),
    "log": (math.log, 1, 2),
    "log10": (math.log10, 1, 1),
    "exp": (math.exp, 1, 1),
    "sin": (math.sin, 1, 1),
    "cos": (math.cos, 1, 1),
    "tan": (math.tan, 1, 1),
    "floor": (math.floor, 1, 1),
    "ceil": (math.ceil, 1, 1),
}
_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau}


def _checked(value: Any) -> Number:
    """Refuse results too large to be useful (and too slow to print)."""
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ToolError("calculator: result is too large (more than ~1000 digits)")
    if isinstance(value, float) and math.isnan(value):
        raise ToolError("calculator: result is not a number")
    if isinstance(value, float) and math.isinf(value):
        raise ToolError("calculator: result is too large")
    return value


def _power(base: Number, exponent: Number) -> Number:
    """`base ** exponent` with limits on exponent and result size."""
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"calculator: exponent {exponent} is too large (limit {MAX_EXPONENT})")
    exact = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if exact and exponent * abs(int(base)).bit_length() > MAX_INT_BITS + 64:
        raise ToolError("calculator: result is too large (more than ~1000 digits)")
    result = base**exponent
    if isinstance(result, complex):
        raise ToolError("calculator: result is a complex number")
    return result


def _eval(node: ast.AST) -> Number:
    """Evaluate one allowed node; anything else is refused by name."""
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ToolError(f"calculator: only numbers are allowed, got {node.value!r}")
        return node.value
    if isinstance(node, ast.Name):
        if node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        raise ToolError(f"calculator: unknown name '{node.id}'")
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            return _checked(_power(left, right))
        return _checked(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name not in _FUNCTIONS:
            raise ToolError(f"calculator: unknown function '{name}'")
        if node.keywords:
            raise ToolError(f"calculator: {name}() takes no keyword arguments")
        fn, low, high = _FUNCTIONS[name]
        if not low <= len(node.args) <= high:
            raise ToolError(f"calculator: {name}() takes {low}..{high} argument(s)")
        return _checked(fn(*[_eval(arg) for arg in node.args]))
    if isinstance(node, ast.Call):
        raise ToolError("calculator: only calls of the listed functions, like sqrt(2), are allowed")
    raise ToolError(f"calculator: '{type(node).__name__}' is not allowed in an expression")


def format_number(value: Number) -> str:
    """Print integers exactly and floats to 12 significant digits."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.12g}"
    return str(value)


def evaluate(expression: str) -> str:
    """Evaluate an arithmetic expression safely and return the formatted result."""
    text = expression.strip().replace("^", "**").replace("\u00d7", "*").replace("\u00f7", "/")
    if not text:
        raise ToolError("calculator: the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"calculator: the expression is longer than {MAX_EXPRESSION_CHARS} chars")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ToolError(f"calculator: cannot parse {expression!r}: {exc.msg}") from None
    try:
        return format_number(_eval(tree))
    except ZeroDivisionError:
        raise ToolError("calculator: division by zero") from None
    except OverflowError:
        raise ToolError("calculator: result is too large") from None
    except (ValueError, TypeError) as exc:
        raise ToolError(f"calculator: {exc}") from None


async def _run(args: dict[str, Any]) -> str:
    """Tool entry point."""
    return evaluate(str(args["expression"]))


def make_calculator_tool() -> Tool:
    """The built-in `calculator` tool."""
    return Tool(
        name="calculator",
        description=(
            "Evaluate an arithmetic expression: + - * / // % ** (or ^), parentheses, "
            "sqrt, abs, round, min, max, log, log10, exp, sin, cos, tan, floor, ceil, pi, e."
        ),
        parameters={
            "type": "object",
            "properties": {
                "expression": {"type": "string", "description": "e.g. (2 + 3) * sqrt(16)"}
            },
            "required": ["expression"],
            "additionalProperties": False,
        },
        run=_run,
        timeout_s=2.0,
    )
