"""The current date and time, optionally in an IANA timezone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from agentplatform.core.errors import ToolError
from agentplatform.engine.tools.base import Tool


def _zone(name: str) -> ZoneInfo:
    """Resolve an IANA timezone name or raise a ToolError that says what to use."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ToolError(
            f"clock: unknown timezone {name!r}; use an IANA name such as 'Europe/Paris' or 'UTC'"
        ) from None


def make_clock_tool(now: Callable[[], datetime] | None = None) -> Tool:
    """The built-in `clock` tool; `now` (aware, UTC) is injectable for tests."""
    current = now or (lambda: datetime.now(UTC))

    async def run(args: dict[str, Any]) -> str:
        name = args.get("timezone") or "UTC"
        zone = _zone(name)
        moment = current().astimezone(zone)
        return f"{moment.isoformat(timespec='seconds')} ({zone.key}, {moment.strftime('%A')})"

    return Tool(
        name="clock",
        description="Current date and time, optionally in an IANA timezone (default UTC).",
        parameters={
            "type": "object",
            "properties": {
                "timezone": {"type": "string", "description": "IANA name, e.g. Europe/Paris"}
            },
            "additionalProperties": False,
        },
        run=run,
        timeout_s=2.0,
    )
