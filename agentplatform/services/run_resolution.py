"""Resolve, at run start, the exact configuration a run executes and snapshot it.

The snapshot (`Run.config`) holds each agent's rendered instructions, model, provider id,
kind and base URL, tools and parameters, and the team's strategy and termination: never an
API key. The executor builds the engine's specs from this snapshot only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from jinja2 import TemplateError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import NotFound, ValidationFailed
from agentplatform.models import Agent, Prompt, Provider, Team, TeamMember
from agentplatform.models.run import RunCreate
from agentplatform.services.prompt_render import render_text
from agentplatform.services.prompts import resolve_prompt

OFFLINE_MODEL = "offline-demo"


@dataclass
class ResolvedRun:
    """What `create_run` stores: the target, its snapshot and the prompt versions used."""

    kind: str
    agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    target_name: str
    config: dict[str, Any]
    prompt_versions: dict[str, int] = field(default_factory=dict)


def render_template(template: str, variables: dict[str, Any], *, source: str) -> str:
    """Render in the prompt sandbox; a missing variable or bad syntax is a 422 naming it."""
    try:
        return render_text(template, variables)
    except ValidationFailed as exc:
        raise ValidationFailed(f"{source}: {exc.message}", details=exc.details) from None
    except TemplateError as exc:  # a syntax error surfaces when the template is compiled
        raise ValidationFailed(f"{source}: not a valid template: {exc.message}") from None


async def _instructions(
    session: AsyncSession,
    agent: Agent,
    data: RunCreate,
    used: dict[str, int],
) -> tuple[str, dict[str, Any]]:
    """The agent's rendered instructions and the prompt reference they came from."""
    source = f"The instructions of agent '{agent.name}'"
    if agent.prompt_id is None:
        return render_template(agent.instructions, data.variables, source=source), {}
    pinned = data.prompt_versions.get(agent.prompt_id)
    label = None if pinned is not None else agent.prompt_label
    version = pinned if pinned is not None else agent.prompt_version
    try:
        number, template = await resolve_prompt(
            session=session,
            workspace_id=agent.workspace_id,
            prompt_id=agent.prompt_id,
            label=label,
            version=version,
        )
    except NotFound as exc:  # the target exists; its prompt reference does not resolve
        raise ValidationFailed(f"{source} cannot be resolved: {exc.message}") from None
    prompt = await session.get(Prompt, agent.prompt_id)
    name = prompt.name if prompt is not None else str(agent.prompt_id)
    used.setdefault(str(agent.prompt_id), number)
    text = render_template(template, data.variables, source=f"{source} (prompt '{name}' v{number})")
    reference = {
        "prompt_id": str(agent.prompt_id),
        "prompt_name": name,
        "prompt_version": number,
        "prompt_label": label,
    }
    return text, reference


async def _agent_snapshot(
    session: AsyncSession, agent: Agent, data: RunCreate, used: dict[str, int]
) -> dict[str, Any]:
    """One agent as it will run: rendered instructions, provider and parameters."""
    instructions, reference = await _instructions(session, agent, data, used)
    provider: dict[str, Any] = {"provider_id": None, "provider_kind": "offline"}
    if agent.provider_id is not None:
        row = await session.get(Provider, agent.provider_id)
        if row is None or row.workspace_id != agent.workspace_id:
            raise ValidationFailed(f"The provider of agent '{agent.name}' no longer exists.")
        provider = {
            "provider_id": str(row.id),
            "provider_kind": row.kind,
            "provider_name": row.name,
            "base_url": row.base_url,
        }
    return {
        "id": str(agent.id),
        "name": agent.name,
        "description": agent.description,
        "version": agent.version,
        **provider,
        "model": agent.model or OFFLINE_MODEL,
        "instructions": instructions,
        "tools": list(agent.tools),
        "temperature": agent.temperature,
        "max_tokens": agent.max_tokens,
        "max_iterations": agent.max_iterations,
        "timeout_s": agent.timeout_s,
        **reference,
    }


async def _load_agent(session: AsyncSession, workspace_id: uuid.UUID, agent_id: uuid.UUID) -> Agent:
    agent = await session.get(Agent, agent_id)
    if agent is None or agent.workspace_id != workspace_id:
        raise NotFound(f"No agent {agent_id} in this workspace.")
    return agent


def _check_pins(data: RunCreate, agents: list[Agent]) -> None:
    """Every pinned prompt must be one the target's agents use."""
    used = {a.prompt_id for a in agents if a.prompt_id is not None}
    unknown = [str(p) for p in data.prompt_versions if p not in used]
    if unknown:
        raise ValidationFailed(
            f"prompt_versions names prompts this run does not use: {', '.join(unknown)}.",
            details=[{"field": f"prompt_versions.{p}", "message": "not used"} for p in unknown],
        )


async def resolve_run(
    *, session: AsyncSession, workspace_id: uuid.UUID, data: RunCreate
) -> ResolvedRun:
    """Validate the target (404 outside the workspace) and snapshot its exact configuration."""
    used: dict[str, int] = {}
    if data.agent_id is not None:
        agent = await _load_agent(session, workspace_id, data.agent_id)
        _check_pins(data, [agent])
        snapshot = await _agent_snapshot(session, agent, data, used)
        config = {"kind": "agent", "agent": snapshot, "agents": {snapshot["id"]: snapshot}}
        return ResolvedRun("agent", agent.id, None, agent.name, config, used)
    assert data.team_id is not None
    team = await session.get(Team, data.team_id)
    if team is None or team.workspace_id != workspace_id:
        raise NotFound(f"No team {data.team_id} in this workspace.")
    query = select(TeamMember).where(TeamMember.team_id == team.id)
    members = (await session.exec(query.order_by(col(TeamMember.position)))).all()
    member_ids = [m.agent_id for m in members]
    if not member_ids:
        raise ValidationFailed(f"The team '{team.name}' has no members: add agents first.")
    if team.strategy == "selector" and team.selector_agent_id is None:
        raise ValidationFailed(
            f"The team '{team.name}' uses the selector strategy but has no selector agent."
        )
    ids = [*member_ids, *([team.selector_agent_id] if team.selector_agent_id else [])]
    agents = {i: await _load_agent(session, workspace_id, i) for i in dict.fromkeys(ids)}
    _check_pins(data, list(agents.values()))
    snapshots = {str(i): await _agent_snapshot(session, a, data, used) for i, a in agents.items()}
    config = {
        "kind": "team",
        "agents": snapshots,
        "team": {
            "id": str(team.id),
            "name": team.name,
            "version": team.version,
            "strategy": team.strategy,
            "member_ids": [str(i) for i in member_ids],
            "selector_agent_id": str(team.selector_agent_id) if team.selector_agent_id else None,
            "termination": {
                "max_turns": team.max_turns,
                "stop_phrase": team.stop_phrase,
                "max_total_tokens": team.max_total_tokens,
                "max_cost_usd": team.max_cost_usd,
                "max_seconds": team.max_seconds,
            },
        },
    }
    return ResolvedRun("team", None, team.id, team.name, config, used)
