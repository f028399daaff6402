"""Run a team: validate the spec, pick the strategy, return output, reason and totals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from agentplatform.core.errors import ValidationFailed
from agentplatform.engine.agent_loop import CostFn
from agentplatform.engine.events import StepSink
from agentplatform.engine.strategies.common import (
    STRATEGIES,
    AgentTotals,
    TeamContext,
    TeamResult,
    TeamSpec,
)
from agentplatform.engine.strategies.parallel import run_parallel
from agentplatform.engine.strategies.round_robin import run_round_robin
from agentplatform.engine.strategies.selector import run_selector
from agentplatform.engine.strategies.sequential import run_sequential
from agentplatform.engine.tools.registry import ToolRegistry

__all__ = ["STRATEGIES", "AgentTotals", "TeamResult", "TeamSpec", "run_team", "validate_team"]

_RUNNERS: dict[str, Callable[[TeamContext], Awaitable[tuple[str, str]]]] = {
    "sequential": run_sequential,
    "round_robin": run_round_robin,
    "selector": run_selector,
    "parallel": run_parallel,
}


def validate_team(spec: TeamSpec) -> None:
    """Raise ValidationFailed when the team cannot run as configured."""
    if spec.strategy not in _RUNNERS:
        known = ", ".join(STRATEGIES)
        raise ValidationFailed(f"team '{spec.name}': unknown strategy '{spec.strategy}' ({known})")
    if not spec.members:
        raise ValidationFailed(f"team '{spec.name}' has no members")
    if spec.strategy == "selector" and spec.selector is None:
        raise ValidationFailed(f"team '{spec.name}': the selector strategy needs a selector agent")
    if spec.termination.max_turns < 1:
        raise ValidationFailed(f"team '{spec.name}': max_turns must be at least 1")


async def run_team(
    spec: TeamSpec,
    task: str,
    *,
    registry: ToolRegistry,
    sink: StepSink | None = None,
    cost_fn: CostFn | None = None,
) -> TeamResult:
    """Run `task` through the team's strategy until it completes or termination stops it."""
    validate_team(spec)
    ctx = TeamContext(spec, task, registry=registry, sink=sink, cost_fn=cost_fn)
    output, reason = await _RUNNERS[spec.strategy](ctx)
    return ctx.result(output, reason)
