"""Prompt templates: parsed and rendered in Jinja2's sandbox, with strict variables and limits."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateSyntaxError, UndefinedError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from agentplatform.core.errors import ValidationFailed
from agentplatform.models.prompt import PromptVersionCreate

MAX_RANGE = 10_000
MAX_SEQUENCE = 200_000
MAX_INT_BITS = 64_000
MAX_EXPONENT = 256
MAX_OUTPUT_CHARS = 500_000
MAX_CONFIG_BYTES = 32 * 1024


class PromptEnvironment(SandboxedEnvironment):
    """The sandbox with strict undefined variables and bounded ranges, repeats and powers."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self.globals["range"] = self._bounded_range

    @staticmethod
    def _bounded_range(*args: int) -> range:
        items = range(*args)
        budget = _range_budget.get(None)
        if budget is not None:
            budget[0] -= len(items)
        if len(items) > MAX_RANGE or (budget is not None and budget[0] < 0):
            raise SecurityError(f"range() is limited to {MAX_RANGE} items per render.")
        return items

    def getattr(self, obj: Any, attribute: str) -> Any:
        """Private and dunder attributes are refused even when they do not exist."""
        if attribute.startswith("_"):
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse `'x' * 10**9`, `2 ** 10**9` and friends before they eat the server."""
        if _too_big(operator, left, right):
            raise SecurityError(f"the result of '{operator}' would be too large for a prompt.")
        return super().call_binop(context, operator, left, right)


def _too_big(operator: str, left: Any, right: Any) -> bool:
    """Whether `left <operator> right` would build a huge string, list or number."""
    ints = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and ints:
        return abs(right) > MAX_EXPONENT or left.bit_length() * abs(right) > MAX_INT_BITS
    if operator == "*":
        if ints:
            return left.bit_length() + right.bit_length() > MAX_INT_BITS
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(times, int):
                return len(seq) * times > MAX_SEQUENCE
    if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, type(left)):
        return len(left) + len(right) > MAX_SEQUENCE
    return False


_env = PromptEnvironment()
_range_budget: ContextVar[list[int]] = ContextVar("prompt_range_budget")


def parse(template: str) -> nodes.Template:
    """The template's syntax tree; a syntax error is a 422 naming its line."""
    try:
        return _env.parse(template)
    except TemplateSyntaxError as exc:
        message = f"Template syntax error on line {exc.lineno}: {exc.message}"
        raise ValidationFailed(
            message, details=[{"field": "template", "line": exc.lineno, "message": exc.message}]
        ) from None


def detect_variables(template: str) -> list[str]:
    """Names the template reads but does not define, sorted."""
    return sorted(meta.find_undeclared_variables(parse(template)))


def render_text(template: str, variables: dict[str, Any]) -> str:
    """Render in the sandbox; missing variables and unsafe access are 422s."""
    budget = _range_budget.set([MAX_RANGE])
    try:
        compiled = _env.from_string(template)
        out: list[str] = []
        size = 0
        for chunk in compiled.generate(**variables):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise SecurityError(f"output is limited to {MAX_OUTPUT_CHARS} characters.")
            out.append(chunk)
        return "".join(out)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(
            f"Template syntax error on line {exc.lineno}: {exc.message}",
            details=[{"field": "template", "line": exc.lineno, "message": exc.message}],
        ) from None
    except SecurityError as exc:
        raise ValidationFailed(
            f"Unsafe template: {exc}", details=[{"field": "template", "message": str(exc)}]
        ) from None
    except UndefinedError as exc:
        missing = sorted(set(detect_variables(template)) - set(variables))
        if missing:
            raise ValidationFailed(
                f"Missing variable{'s' if len(missing) > 1 else ''}: {', '.join(missing)}.",
                details=[{"field": f"variables.{name}", "message": "missing"} for name in missing],
            ) from None
        raise ValidationFailed(f"The template refers to something undefined: {exc}") from None
    except TemplateError as exc:
        raise ValidationFailed(f"The template could not be rendered: {exc}") from None
    except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
        raise ValidationFailed(
            f"The template could not be rendered: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        _range_budget.reset(budget)


def checked_version_fields(data: PromptVersionCreate) -> dict[str, Any]:
    """Template, variables, config and message of a new version, validated."""
    variables = detect_variables(data.template)
    if data.variables is not None:
        variables = list(dict.fromkeys(data.variables))
    try:
        config_size = len(json.dumps(data.config, separators=(",", ":"), allow_nan=False))
    except (TypeError, ValueError):
        raise ValidationFailed("config must be plain JSON (no NaN or Infinity).") from None
    if config_size > MAX_CONFIG_BYTES:
        raise ValidationFailed(
            f"config is {config_size} bytes of JSON; the limit is {MAX_CONFIG_BYTES}.",
            details=[{"field": "config", "message": f"at most {MAX_CONFIG_BYTES} bytes"}],
        )
    return {
        "template": data.template,
        "variables": variables,
        "config": data.config,
        "commit_message": data.commit_message.strip(),
    }
