"""Tools an agent may call: typed functions with a JSON schema, a timeout and a permission flag."""

from agentplatform.engine.tools.base import Tool, validate_args
from agentplatform.engine.tools.registry import ToolRegistry, ToolResult

__all__ = ["Tool", "ToolRegistry", "ToolResult", "validate_args"]
