"""The `Tool` shape and argument validation against its JSON schema."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from agentplatform.core.errors import ToolError
from agentplatform.engine.providers.base import ToolSchema

ToolFn = Callable[[dict[str, Any]], Awaitable[str]]

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


@dataclass(frozen=True)
class Tool:
    """A typed function a model may call; `available` is False when config disables it."""

    name: str
    description: str
    parameters: dict[str, Any]
    run: ToolFn
    timeout_s: float = 10.0
    requires_permission: bool = False
    enabled_by_default: bool = True
    available: bool = True
    unavailable_reason: str = ""
    tags: tuple[str, ...] = field(default=())

    def schema(self) -> ToolSchema:
        """What the model is told about this tool."""
        return ToolSchema(name=self.name, description=self.description, parameters=self.parameters)

    def validate(self, args: Any) -> dict[str, Any]:
        """Check `args` against the schema; raise ToolError naming the bad argument."""
        return validate_args(self.name, self.parameters, args)


def _type_name(value: Any) -> str:
    """The JSON type name of a Python value, for error messages."""
    if isinstance(value, bool):
        return "boolean"
    for name in ("integer", "number", "string", "array", "object", "null"):
        if isinstance(value, _JSON_TYPES[name]):
            return name
    return type(value).__name__


def _matches(value: Any, json_type: str) -> bool:
    """Whether `value` is of JSON type `json_type` (booleans are not numbers)."""
    if json_type in ("integer", "number") and isinstance(value, bool):
        return False
    if json_type == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES.get(json_type, (object,)))


def validate_args(tool: str, schema: dict[str, Any], args: Any) -> dict[str, Any]:
    """Validate required keys, types, enums and unknown keys of an object schema."""
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ToolError(f"{tool}: arguments must be a JSON object, got {_type_name(args)}")
    props: dict[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in args or args[key] is None:
            raise ToolError(f"{tool}: missing required argument '{key}'")
    if schema.get("additionalProperties") is False:
        unknown = sorted(set(args) - set(props))
        if unknown:
            allowed = ", ".join(sorted(props)) or "none"
            raise ToolError(f"{tool}: unknown argument(s) {unknown}; allowed: {allowed}")
    clean: dict[str, Any] = {}
    for key, value in args.items():
        spec = props.get(key, {})
        expected = spec.get("type")
        types = expected if isinstance(expected, list) else [expected] if expected else []
        if value is None and key not in schema.get("required", []):
            continue
        if types and not any(_matches(value, t) for t in types):
            raise ToolError(
                f"{tool}: argument '{key}' must be {' or '.join(types)}, got {_type_name(value)}"
            )
        if "enum" in spec and value not in spec["enum"]:
            choices = ", ".join(str(c) for c in spec["enum"])
            raise ToolError(f"{tool}: argument '{key}' must be one of: {choices}")
        clean[key] = value
    return clean
