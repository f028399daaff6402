"""Agents: CRUD with unique names, provider/model, prompt-reference and tool checks."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict, NotFound, ValidationFailed
from agentplatform.models import Agent, Prompt, PromptLabel, PromptVersion, Provider, Team
from agentplatform.models.agent import AgentCreate, AgentPublic, AgentsPublic, AgentUpdate
from agentplatform.models.common import utcnow
from agentplatform.models.team import TeamMember
from agentplatform.services import audit
from agentplatform.services.pagination import (
    Page,
    apply_filters,
    by_name,
    changes,
    check_version,
    commit_unique,
    ensure_name_free,
    paginate,
)
from agentplatform.services.permissions import Actor, require

OFFLINE_MODEL = "offline-demo"
LATEST = "latest"
FALLBACK_TOOLS = frozenset({"calculator", "clock", "current_time", "text_utils", "http_get"})
_NULLABLE = frozenset({"provider_id", "prompt_id", "prompt_label", "prompt_version", "max_tokens"})


@cache
def known_tools() -> frozenset[str]:
    """Tool names an agent may list: the engine's registry, else the built-in names."""
    try:
        from agentplatform.engine.tools.registry import ToolRegistry
    except ImportError:  # the engine is optional for the service layer
        return FALLBACK_TOOLS
    return frozenset(ToolRegistry().names())


def to_public(agent: Agent) -> AgentPublic:
    return AgentPublic.model_validate(agent, from_attributes=True)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message}])


async def load_agent(
    session: AsyncSession, workspace_id: uuid.UUID, agent_id: uuid.UUID, *, lock: bool = False
) -> Agent:
    """The agent in this workspace, or 404 (another workspace's agent is 404 too)."""
    query = select(Agent).where(Agent.id == agent_id, Agent.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()
    agent = (await session.exec(query)).first()
    if agent is None:
        raise NotFound(f"No agent {agent_id} in this workspace.")
    return agent


async def _resolve_model(
    session: AsyncSession, workspace_id: uuid.UUID, provider_id: uuid.UUID | None, model: str | None
) -> str:
    """The model to store: checked against the provider's list when it has one."""
    if provider_id is None:
        return model or OFFLINE_MODEL
    query = select(Provider).where(
        Provider.id == provider_id, Provider.workspace_id == workspace_id
    )
    provider = (await session.exec(query)).first()
    if provider is None:
        raise _invalid("provider_id", f"No provider {provider_id} in this workspace.")
    if provider.kind == "offline" or not provider.models:
        if model:
            return model
        if provider.kind == "offline":
            return OFFLINE_MODEL
        raise _invalid("model", f"Name the model to use with provider '{provider.name}'.")
    if model is None:
        return provider.models[0]
    if model not in provider.models:
        allowed = ", ".join(provider.models)
        raise _invalid(
            "model", f"Provider '{provider.name}' has no model '{model}'; choose one of: {allowed}."
        )
    return model


async def _check_prompt_ref(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    prompt_id: uuid.UUID,
    label: str | None,
    version: int | None,
) -> tuple[str | None, int | None]:
    """The (label, version) reference after checking the prompt, label and version exist."""
    query = select(Prompt).where(Prompt.id == prompt_id, Prompt.workspace_id == workspace_id)
    prompt = (await session.exec(query)).first()
    if prompt is None:
        raise _invalid("prompt_id", f"No prompt {prompt_id} in this workspace.")
    numbers = set(
        await session.exec(select(PromptVersion.number).where(PromptVersion.prompt_id == prompt_id))
    )
    if not numbers:
        raise _invalid("prompt_id", f"The prompt '{prompt.name}' has no versions yet: save one.")
    if version is not None:
        if version not in numbers:
            raise _invalid(
                "prompt_version",
                f"The prompt '{prompt.name}' has no version {version} "
                f"(it has 1 to {max(numbers)}).",
            )
        return None, version
    if label is None or label == LATEST:
        return LATEST, None
    labels = set(
        await session.exec(select(PromptLabel.label).where(PromptLabel.prompt_id == prompt_id))
    )
    if label not in labels:
        known = ", ".join(sorted(labels | {LATEST}))
        raise _invalid(
            "prompt_label", f"The prompt '{prompt.name}' has no label '{label}' (labels: {known})."
        )
    return label, None


def _check_tools(tools: list[str]) -> list[str]:
    known = known_tools()
    unknown = [t for t in tools if t not in known]
    if unknown:
        raise _invalid(
            "tools",
            f"Unknown tool{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            f"Available: {', '.join(sorted(known))}.",
        )
    return list(dict.fromkeys(tools))


async def _check_instructions(session: AsyncSession, workspace_id: uuid.UUID, agent: Agent) -> None:
    """Instructions come from one source: inline text or a prompt reference."""
    if agent.prompt_id is None:
        if agent.prompt_label is not None or agent.prompt_version is not None:
            raise _invalid("prompt_id", "prompt_label and prompt_version need a prompt_id.")
        return
    if agent.instructions.strip():
        raise _invalid(
            "instructions", "Give instructions inline or as a prompt reference, not both."
        )
    agent.prompt_label, agent.prompt_version = await _check_prompt_ref(
        session, workspace_id, agent.prompt_id, agent.prompt_label, agent.prompt_version
    )


async def list_agents(*, session: AsyncSession, actor: Actor, page: Page) -> AgentsPublic:
    """Agents of the actor's workspace, by name, filtered by `q` and `tag`."""
    require(actor, "agents.read")
    query = select(Agent).where(Agent.workspace_id == actor.workspace_id)
    query = apply_filters(query, page=page, name_column=col(Agent.name), tags_column=Agent.tags)
    rows, count = await paginate(session, query, page=page, order_by=by_name(Agent.name, Agent.id))
    return AgentsPublic(data=[to_public(a) for a in rows], count=count)


async def get_agent(*, session: AsyncSession, actor: Actor, agent_id: uuid.UUID) -> AgentPublic:
    require(actor, "agents.read")
    return to_public(await load_agent(session, actor.workspace_id, agent_id))


async def create_agent(*, session: AsyncSession, actor: Actor, data: AgentCreate) -> AgentPublic:
    """A new agent at version 1."""
    require(actor, "agents.write")
    await ensure_name_free(session, Agent, actor.workspace_id, data.name)
    fields = data.model_dump()
    fields["model"] = await _resolve_model(
        session, actor.workspace_id, data.provider_id, data.model
    )
    fields["tools"] = _check_tools(data.tools)
    agent = Agent(**fields, workspace_id=actor.workspace_id, created_by=actor.user_id)
    await _check_instructions(session, actor.workspace_id, agent)
    session.add(agent)
    await session.flush()
    public = to_public(agent)
    audit.record(
        session,
        actor=actor,
        action="agent.create",
        resource_type="agent",
        resource_id=agent.id,
        after=public,
    )
    await commit_unique(session, "agent", agent.name)
    return public


def _apply_source_switch(agent: Agent, updates: dict[str, Any]) -> None:
    """Setting one instruction source clears the other unless both are given."""
    if updates.get("prompt_id") is not None:
        if "instructions" not in updates:
            agent.instructions = ""
        if updates["prompt_id"] != agent.prompt_id and not (
            {"prompt_label", "prompt_version"} & updates.keys()
        ):
            agent.prompt_label, agent.prompt_version = None, None
    elif "prompt_id" in updates:
        agent.prompt_label, agent.prompt_version = None, None
    elif updates.get("instructions") and agent.prompt_id is not None:
        agent.prompt_id, agent.prompt_label, agent.prompt_version = None, None, None
    if updates.get("prompt_label") is not None:
        agent.prompt_version = None
    if updates.get("prompt_version") is not None:
        agent.prompt_label = None


async def update_agent(
    *,
    session: AsyncSession,
    actor: Actor,
    agent_id: uuid.UUID,
    data: AgentUpdate,
    expected_version: int | None = None,
) -> AgentPublic:
    """Change the given fields; the version goes up by one."""
    require(actor, "agents.write")
    agent = await load_agent(session, actor.workspace_id, agent_id, lock=True)
    check_version("agent", agent.version, expected_version)
    updates = changes(data, nullable=_NULLABLE)
    before = to_public(agent)
    if "name" in updates and updates["name"] != agent.name:
        await ensure_name_free(
            session, Agent, actor.workspace_id, updates["name"], exclude=agent.id
        )
    if "tools" in updates:
        updates["tools"] = _check_tools(updates["tools"])
    with session.no_autoflush:  # validate the new values before anything reaches the database
        _apply_source_switch(agent, updates)
        for key, value in updates.items():
            setattr(agent, key, value)
        if {"provider_id", "model"} & updates.keys():
            agent.model = await _resolve_model(
                session, actor.workspace_id, agent.provider_id, updates.get("model", agent.model)
            )
        await _check_instructions(session, actor.workspace_id, agent)
    agent.version += 1
    agent.updated_at = utcnow()
    session.add(agent)
    await session.flush()
    public = to_public(agent)
    audit.record(
        session,
        actor=actor,
        action="agent.update",
        resource_type="agent",
        resource_id=agent.id,
        before=before,
        after=public,
    )
    await commit_unique(session, "agent", agent.name)
    return public


async def teams_using(session: AsyncSession, agent_id: uuid.UUID) -> list[str]:
    """Names of the teams that have this agent as a member or as selector."""
    as_member = select(Team.name).join(TeamMember, col(TeamMember.team_id) == col(Team.id))
    as_member = as_member.where(TeamMember.agent_id == agent_id)
    as_selector = select(Team.name).where(Team.selector_agent_id == agent_id)
    names = set((await session.exec(as_member)).all()) | set(
        (await session.exec(as_selector)).all()
    )
    return sorted(names)


async def delete_agent(
    *,
    session: AsyncSession,
    actor: Actor,
    agent_id: uuid.UUID,
    expected_version: int | None = None,
) -> None:
    """Remove an agent that no team uses (its past runs keep their trace)."""
    require(actor, "agents.write")
    agent = await load_agent(session, actor.workspace_id, agent_id, lock=True)
    check_version("agent", agent.version, expected_version)
    teams = await teams_using(session, agent.id)
    if teams:
        raise Conflict(
            f"The agent '{agent.name}' is used by these teams: {', '.join(teams)}. "
            "Remove it from them first.",
            details={"teams": teams},
        )
    audit.record(
        session,
        actor=actor,
        action="agent.delete",
        resource_type="agent",
        resource_id=agent.id,
        before=to_public(agent),
    )
    await session.delete(agent)
    await session.commit()
