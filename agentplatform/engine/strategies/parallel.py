"""Parallel: every member answers the task concurrently, then an aggregator combines."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from agentplatform.engine.agent_loop import AgentResult
from agentplatform.engine.budget import COMPLETED
from agentplatform.engine.strategies import protocol
from agentplatform.engine.strategies.common import NO_ANSWER, RESOURCE_REASONS, TeamContext


async def run_parallel(ctx: TeamContext) -> tuple[str, str]:
    """Fan out (one turn), aggregate (a second turn); returns (output, stopped_reason)."""
    members = ctx.spec.members
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(ctx.turn(m, ctx.task, count_turn=False)) for m in members]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None  # the first member failure, not a group
    results: list[AgentResult] = [task.result() for task in tasks]
    ctx.tracker.add_turn()
    answers = [(m.name, r.output or NO_ANSWER) for m, r in zip(members, results, strict=True)]
    ctx.transcript.extend(answers)
    joined = "\n\n".join(protocol.section(name, answer) for name, answer in answers)
    cut = next((r.stopped_reason for r in results if r.stopped_reason in RESOURCE_REASONS), None)
    stop = cut or next(filter(None, (ctx.tracker.check(r.output) for r in results)), None)
    if stop:
        return joined, stop
    base = ctx.spec.aggregator_agent()
    aggregator = replace(base, instructions=protocol.aggregator_system(base.instructions))
    result = await ctx.turn(aggregator, protocol.aggregator_input(ctx.task, answers))
    ctx.transcript.append((aggregator.name, result.output or NO_ANSWER))
    if result.stopped_reason in RESOURCE_REASONS:
        return result.output or joined, result.stopped_reason
    return ctx.final_output() or joined, COMPLETED
