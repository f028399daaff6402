"""Round robin: members speak in a fixed order on a shared conversation until termination."""

from __future__ import annotations

from itertools import cycle

from agentplatform.engine.strategies import protocol
from agentplatform.engine.strategies.common import TeamContext


async def run_round_robin(ctx: TeamContext) -> tuple[str, str]:
    """Loop over the members; returns (output, stopped_reason). max_turns bounds the loop."""
    for agent in cycle(ctx.spec.members):
        messages = protocol.transcript_messages(ctx.task, ctx.transcript, agent.name)
        result = await ctx.turn(agent, messages)
        reason = ctx.after_turn(agent, result)
        if reason:
            return ctx.final_output(), reason
    raise AssertionError("unreachable: a team always has members")
