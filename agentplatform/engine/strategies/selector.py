"""Selector: a supervisor model picks the next speaker each turn, or ends the run."""

from __future__ import annotations

from dataclasses import replace

from agentplatform.core.errors import ValidationFailed
from agentplatform.engine.agent_loop import AgentSpec, Completion, complete_once
from agentplatform.engine.budget import COMPLETED, TIME_BUDGET, TimeBudgetExceeded
from agentplatform.engine.events import StepEvent
from agentplatform.engine.providers.base import ChatMessage
from agentplatform.engine.strategies import protocol
from agentplatform.engine.strategies.common import TeamContext


def _fallback(ctx: TeamContext) -> AgentSpec:
    """The member after the last speaker, in team order (used when the answer is unclear)."""
    members = ctx.spec.members
    if not ctx.transcript:
        return members[0]
    names = [m.name for m in members]
    last = ctx.transcript[-1][0]
    index = names.index(last) + 1 if last in names else 0
    return members[index % len(members)]


async def _ask(ctx: TeamContext, selector: AgentSpec, system: str) -> Completion:
    """One selector call; failures are recorded as an error step, then re-raised."""
    messages = [
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content=protocol.selector_input(ctx.task, ctx.transcript)),
    ]
    try:
        return await complete_once(selector, messages, cost_fn=ctx.cost_fn, budget=ctx.tracker)
    except TimeBudgetExceeded:
        raise
    except Exception as exc:
        await ctx.emit_error(selector, exc)
        raise


async def run_selector(ctx: TeamContext) -> tuple[str, str]:
    """Ask the selector, run the chosen member, repeat; returns (output, stopped_reason)."""
    selector = ctx.spec.selector
    if selector is None:
        raise ValidationFailed(f"team '{ctx.spec.name}': the selector strategy needs a selector")
    selector = replace(selector, tools=[], max_iterations=1)
    members = {m.name: m for m in reversed(ctx.spec.members)}  # first wins on duplicates
    names = [m.name for m in ctx.spec.members]
    candidates = [(m.name, m.description) for m in ctx.spec.members]
    system = protocol.selector_system(selector.instructions, candidates)
    while True:
        try:
            done = await _ask(ctx, selector, system)
        except TimeBudgetExceeded:
            return ctx.final_output(), TIME_BUDGET
        reply = done.message
        ctx.record(selector, reply.usage, done.cost_usd, done.latency_ms, turn=False)
        selection = protocol.parse_selection(reply.content, names)
        if selection is None:
            chosen = _fallback(ctx)
            why = f"Selector answer not understood; {chosen.name} speaks next in team order."
            selection = protocol.Selection(next=chosen.name, reason=why)
        if selection.next is None and not ctx.transcript:
            first = ctx.spec.members[0]
            why = f"{selection.reason} (nobody has answered yet, so {first.name} starts)"
            selection = protocol.Selection(next=first.name, reason=why)
        await ctx.sink(
            StepEvent(
                agent_id=selector.id,
                agent_name=selector.name,
                kind="handoff",
                content=selection.reason,
                input_tokens=reply.usage.input_tokens,
                output_tokens=reply.usage.output_tokens,
                cost_usd=done.cost_usd,
                latency_ms=done.latency_ms,
                model=reply.model or selector.model_name,
                meta={"next": selection.next, "selector_output": reply.content},
            )
        )
        if selection.next is None:
            return ctx.final_output(), COMPLETED
        spent = ctx.tracker.resource_reason()
        if spent:
            return ctx.final_output(), spent
        agent = members[selection.next]
        messages = protocol.transcript_messages(ctx.task, ctx.transcript, agent.name)
        result = await ctx.turn(agent, messages)
        reason = ctx.after_turn(agent, result)
        if reason:
            return ctx.final_output(), reason
