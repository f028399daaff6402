"""The tool registry: which tools exist, their schemas, and guarded execution."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from agentplatform.core.errors import NotFound, ToolError
from agentplatform.engine.providers.base import ToolSchema
from agentplatform.engine.tools.base import Tool
from agentplatform.engine.tools.calculator import make_calculator_tool
from agentplatform.engine.tools.clock import make_clock_tool
from agentplatform.engine.tools.http_get import make_http_get_tool
from agentplatform.engine.tools.text_utils import make_text_utils_tool

DEFAULT_MAX_OUTPUT_CHARS = 16_000


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one tool call; `error` is what the model is told when `ok` is False."""

    ok: bool
    output: str = ""
    error: str = ""
    latency_ms: int = 0

    def for_model(self) -> str:
        """The text sent back to the model as the tool message."""
        return self.output if self.ok else f"Error: {self.error}"


def cap_output(text: str, limit: int) -> str:
    """Cut tool output to `limit` characters and say how much was dropped."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n…[truncated {len(text) - limit} characters]"


class ToolRegistry:
    """Known tools by name; `execute` runs one only if the agent is allowed to use it."""

    def __init__(
        self,
        tools: Iterable[Tool] | None = None,
        *,
        builtins: bool = True,
        http_allowed_hosts: Iterable[str] = (),
        http_max_bytes: int = 200_000,
        http_timeout_s: float = 10.0,
        http_transport: httpx.AsyncBaseTransport | None = None,
        max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
    ) -> None:
        self.max_output_chars = max_output_chars
        self._tools: dict[str, Tool] = {}
        if builtins:
            for tool in (
                make_calculator_tool(),
                make_clock_tool(),
                make_text_utils_tool(),
                make_http_get_tool(
                    http_allowed_hosts,
                    max_bytes=http_max_bytes,
                    timeout_s=http_timeout_s,
                    transport=http_transport,
                ),
            ):
                self.register(tool)
        for tool in tools or ():
            self.register(tool)

    def register(self, tool: Tool) -> None:
        """Add or replace a tool by name."""
        self._tools[tool.name] = tool

    def get(self, name: str) -> Tool:
        """The tool called `name`, or NotFound."""
        try:
            return self._tools[name]
        except KeyError:
            raise NotFound(f"unknown tool '{name}'") from None

    def list(self) -> builtins.list[Tool]:
        """All tools, sorted by name (including unavailable ones, for the UI)."""
        return [self._tools[name] for name in sorted(self._tools)]

    def names(self) -> set[str]:
        """Names of all registered tools."""
        return set(self._tools)

    def schemas_for(self, names: Iterable[str]) -> builtins.list[ToolSchema]:
        """Schemas of the named tools that are available; unknown names raise NotFound."""
        tools = [self.get(name) for name in dict.fromkeys(names)]
        return [tool.schema() for tool in tools if tool.available]

    async def execute(self, name: str, args: Any, allowed: set[str]) -> ToolResult:
        """Run a tool if allowed, with argument validation, a timeout and capped output."""
        started = time.perf_counter()

        def done(ok: bool, output: str = "", error: str = "") -> ToolResult:
            ms = int((time.perf_counter() - started) * 1000)
            return ToolResult(ok=ok, output=output, error=error, latency_ms=ms)

        if name not in allowed:
            return done(False, error=f"tool '{name}' is not enabled for this agent")
        tool = self._tools.get(name)
        if tool is None:
            return done(False, error=f"unknown tool '{name}'")
        if not tool.available:
            return done(False, error=f"tool '{name}' is unavailable: {tool.unavailable_reason}")
        try:
            clean = tool.validate(args)
            output = await asyncio.wait_for(tool.run(clean), timeout=tool.timeout_s)
        except TimeoutError:
            return done(False, error=f"tool '{name}' timed out after {tool.timeout_s:g} s")
        except ToolError as exc:
            return done(False, error=exc.message)
        except Exception as exc:  # a tool bug must not crash the run; the model sees it
            return done(False, error=f"tool '{name}' failed: {type(exc).__name__}: {exc}")
        return done(True, output=cap_output(str(output), self.max_output_chars))
