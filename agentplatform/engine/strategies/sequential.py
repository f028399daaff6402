"""Sequential: each member works on the previous member's output, once, in order."""

from __future__ import annotations

from agentplatform.engine.budget import COMPLETED
from agentplatform.engine.strategies import protocol
from agentplatform.engine.strategies.common import RESOURCE_REASONS, TeamContext


async def run_sequential(ctx: TeamContext) -> tuple[str, str]:
    """Run the chain; returns (output, stopped_reason)."""
    previous: tuple[str, str] | None = None
    members = ctx.spec.members
    for index, agent in enumerate(members):
        result = await ctx.turn(agent, protocol.sequential_input(ctx.task, previous))
        reason = ctx.after_turn(agent, result)
        last = index == len(members) - 1
        if last and result.stopped_reason not in RESOURCE_REASONS:
            return ctx.final_output(), COMPLETED
        if reason:
            return ctx.final_output(), reason
        previous = ctx.transcript[-1]
    return ctx.final_output(), COMPLETED
