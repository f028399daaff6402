"""The template variables a run of an agent or team needs, so a form can ask for them."""

from __future__ import annotations

import uuid

from pydantic import BaseModel
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import NotFound, ValidationFailed
from agentplatform.models import Agent, TeamMember
from agentplatform.services.agents import load_agent
from agentplatform.services.permissions import Actor, require
from agentplatform.services.prompt_render import detect_variables
from agentplatform.services.prompts import find_version, load_prompt
from agentplatform.services.teams import load_team


class TargetVariables(BaseModel):
    """Variables the target's instructions read, and the prompt versions they come from."""

    variables: list[str] = []
    prompts: list[str] = []  # "name v3 (production)" per prompt the target's agents use


async def _agents_of(
    session: AsyncSession, actor: Actor, agent_id: uuid.UUID | None, team_id: uuid.UUID | None
) -> list[Agent]:
    if agent_id is not None:
        return [await load_agent(session, actor.workspace_id, agent_id)]
    if team_id is None:
        raise ValidationFailed("Choose an agent or a team.")
    team = await load_team(session, actor.workspace_id, team_id)
    query = select(TeamMember.agent_id).where(TeamMember.team_id == team.id)
    ids = list((await session.exec(query.order_by(col(TeamMember.position)))).all())
    if team.selector_agent_id is not None:
        ids.append(team.selector_agent_id)
    return [await load_agent(session, actor.workspace_id, i) for i in dict.fromkeys(ids)]


async def _variables_of(session: AsyncSession, agent: Agent) -> tuple[list[str], str | None]:
    """(variables, "prompt vN") of one agent; an unresolvable reference reads as none."""
    try:
        if agent.prompt_id is None:
            return detect_variables(agent.instructions), None
        prompt = await load_prompt(session, agent.workspace_id, agent.prompt_id)
        found = await find_version(
            session, prompt, label=agent.prompt_label, version=agent.prompt_version
        )
    except (NotFound, ValidationFailed):
        return [], None
    names = list(found.variables) or detect_variables(found.template)
    source = f"{prompt.name} v{found.number}"
    if agent.prompt_label and agent.prompt_version is None:
        source += f" ({agent.prompt_label})"
    return names, source


async def target_variables(
    *,
    session: AsyncSession,
    actor: Actor,
    agent_id: uuid.UUID | None = None,
    team_id: uuid.UUID | None = None,
) -> TargetVariables:
    """What a run of this agent or team will render: its variables, in first-seen order."""
    require(actor, "runs.create")
    names: dict[str, None] = {}
    sources: dict[str, None] = {}
    for agent in await _agents_of(session, actor, agent_id, team_id):
        variables, source = await _variables_of(session, agent)
        names.update(dict.fromkeys(variables))
        if source:
            sources[source] = None
    return TargetVariables(variables=list(names), prompts=list(sources))
