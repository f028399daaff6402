"""Small deterministic text operations: counts, case, reverse, slugify, truncate."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

from agentplatform.core.errors import ToolError
from agentplatform.engine.tools.base import Tool

MAX_TEXT_CHARS = 100_000


def slugify(text: str) -> str:
    """ASCII, lower-case, hyphen-separated: 'Héllo, World!' -> 'hello-world'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def truncate(text: str, length: int) -> str:
    """Cut to at most `length` characters, ending with an ellipsis when cut."""
    if length < 1:
        raise ToolError("text_utils: 'length' must be at least 1")
    return text if len(text) <= length else text[: max(length - 1, 0)].rstrip() + "…"


_OPERATIONS: dict[str, Callable[[str], str]] = {
    "word_count": lambda t: str(len(t.split())),
    "char_count": lambda t: str(len(t)),
    "line_count": lambda t: str(len(t.splitlines())),
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "reverse": lambda t: t[::-1],
    "slugify": slugify,
    "strip": str.strip,
}
OPERATIONS = (*_OPERATIONS, "truncate")


async def _run(args: dict[str, Any]) -> str:
    """Tool entry point."""
    text: str = args["text"]
    if len(text) > MAX_TEXT_CHARS:
        raise ToolError(f"text_utils: text is longer than {MAX_TEXT_CHARS} characters")
    operation = args["operation"]
    if operation == "truncate":
        return truncate(text, int(args.get("length") or 100))
    return _OPERATIONS[operation](text)


def make_text_utils_tool() -> Tool:
    """The built-in `text_utils` tool."""
    return Tool(
        name="text_utils",
        description="Text operations: " + ", ".join(OPERATIONS) + " ('length' for truncate).",
        parameters={
            "type": "object",
            "properties": {
                "operation": {"type": "string", "enum": list(OPERATIONS)},
                "text": {"type": "string"},
                "length": {"type": "integer", "description": "max characters for truncate"},
            },
            "required": ["operation", "text"],
            "additionalProperties": False,
        },
        run=_run,
        timeout_s=2.0,
    )
