"""Turn a run's config snapshot into the engine's specs: providers (keys decrypted here,
in memory only), the workspace's price table, and the tool registry."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.config import get_settings
from agentplatform.engine.agent_loop import AgentSpec, CostFn
from agentplatform.engine.budget import Termination
from agentplatform.engine.providers.base import Provider, Usage
from agentplatform.engine.providers.factory import build_provider
from agentplatform.engine.providers.pricing import ModelPrice as Price
from agentplatform.engine.providers.pricing import cost_usd
from agentplatform.engine.strategies.common import TeamSpec
from agentplatform.engine.tools.registry import ToolRegistry
from agentplatform.services.provider_connections import ProviderConnection, provider_connections


def cost_function(table: Mapping[str, Price]) -> CostFn:
    """Cost of one call from the run's price table (unknown models cost 0.0)."""

    def cost(model: str, usage: Usage) -> float:
        return cost_usd(model, usage, table)

    return cost


def _provider(
    agent: Mapping[str, Any], connections: Mapping[uuid.UUID, ProviderConnection]
) -> Provider:
    """The agent's provider as snapshotted, with its current (decrypted) API key."""
    kind = str(agent.get("provider_kind") or "offline")
    model = str(agent.get("model") or "")
    provider_id = _provider_id(agent)
    if provider_id is None:
        return build_provider("offline", model=model)
    known = connections[provider_id]
    base_url = agent.get("base_url") or known.base_url
    return build_provider(
        kind, model=model, base_url=base_url, api_key=known.api_key, name=known.name
    )


def _provider_id(agent: Mapping[str, Any]) -> uuid.UUID | None:
    """The snapshotted provider of an agent that needs one (not the offline model)."""
    provider_id = agent.get("provider_id")
    if provider_id is None or (agent.get("provider_kind") or "offline") == "offline":
        return None
    return uuid.UUID(str(provider_id))


async def build_agent_specs(
    session: AsyncSession, workspace_id: uuid.UUID, config: Mapping[str, Any]
) -> dict[str, AgentSpec]:
    """Every agent of the snapshot as an AgentSpec, by agent id (their providers' connections
    come from the cache, or one query)."""
    agents: Mapping[str, Mapping[str, Any]] = config["agents"]
    ids = {pid for agent in agents.values() if (pid := _provider_id(agent)) is not None}
    connections = await provider_connections(session, workspace_id, ids)
    specs: dict[str, AgentSpec] = {}
    for agent_id, agent in agents.items():
        specs[agent_id] = AgentSpec(
            id=agent_id,
            name=agent["name"],
            provider=_provider(agent, connections),
            model=agent["model"],
            instructions=agent.get("instructions") or "",
            tools=list(agent.get("tools") or []),
            temperature=agent.get("temperature"),
            max_tokens=agent.get("max_tokens"),
            max_iterations=int(agent.get("max_iterations") or 5),
            timeout_s=agent.get("timeout_s"),
            description=agent.get("description") or "",
        )
    return specs


def build_team_spec(config: Mapping[str, Any], agents: Mapping[str, AgentSpec]) -> TeamSpec:
    """The team of the snapshot; the selector also aggregates parallel answers."""
    team = config["team"]
    term = team.get("termination") or {}
    selector_id = team.get("selector_agent_id")
    return TeamSpec(
        name=team["name"],
        strategy=team["strategy"],
        members=[agents[i] for i in team["member_ids"]],
        selector=agents[selector_id] if selector_id else None,
        termination=Termination(
            max_turns=int(term.get("max_turns") or 10),
            stop_phrase=term.get("stop_phrase"),
            max_tokens=term.get("max_total_tokens"),
            max_cost_usd=term.get("max_cost_usd"),
            max_seconds=term.get("max_seconds"),
        ),
    )


def tool_registry() -> ToolRegistry:
    """The built-in tools, with the http_get host allow-list from Settings."""
    return ToolRegistry(http_allowed_hosts=get_settings().http_allowed_hosts)
