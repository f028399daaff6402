"""Teams: ordered member agents under a strategy, with termination settings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import NotFound, ValidationFailed
from agentplatform.models import Agent, Team, TeamMember
from agentplatform.models.common import utcnow
from agentplatform.models.team import (
    TeamCreate,
    TeamMemberPublic,
    TeamPublic,
    TeamsPublic,
    TeamUpdate,
    Termination,
)
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

USES_SELECTOR = frozenset({"selector", "parallel"})
_TERMINATION_FIELDS = tuple(Termination.model_fields)


async def load_team(
    session: AsyncSession, workspace_id: uuid.UUID, team_id: uuid.UUID, *, lock: bool = False
) -> Team:
    """The team in this workspace, or 404 (another workspace's team is 404 too)."""
    query = select(Team).where(Team.id == team_id, Team.workspace_id == workspace_id)
    if lock:
        query = query.with_for_update()
    team = (await session.exec(query)).first()
    if team is None:
        raise NotFound(f"No team {team_id} in this workspace.")
    return team


async def team_members(session: AsyncSession, team_id: uuid.UUID) -> list[TeamMemberPublic]:
    """The members in order, with their agent names."""
    query = (
        select(TeamMember, Agent.name)
        .join(Agent, col(Agent.id) == col(TeamMember.agent_id))
        .where(TeamMember.team_id == team_id)
        .order_by(col(TeamMember.position))
    )
    rows = (await session.exec(query)).all()
    return [
        TeamMemberPublic(agent_id=m.agent_id, name=name, position=m.position) for m, name in rows
    ]


def _public(team: Team, members: list[TeamMemberPublic]) -> TeamPublic:
    termination = Termination.model_construct(
        **{name: getattr(team, name) for name in _TERMINATION_FIELDS}
    )
    public = TeamPublic(
        id=team.id,
        name=team.name,
        description=team.description,
        strategy=team.strategy,  # type: ignore[arg-type]
        members=members,
        selector_agent_id=team.selector_agent_id,
        termination=termination,
        tags=list(team.tags),
        version=team.version,
        created_by=team.created_by,
        created_at=team.created_at,
        updated_at=team.updated_at,
    )
    return public


async def to_public(session: AsyncSession, team: Team) -> TeamPublic:
    return _public(team, await team_members(session, team.id))


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details=[{"field": field, "message": message}])


async def _check_agents(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    member_ids: Sequence[uuid.UUID],
    selector_id: uuid.UUID | None,
) -> None:
    """Every referenced agent exists in this workspace; the message names the missing ones."""
    wanted = set(member_ids) | ({selector_id} if selector_id else set())
    query = select(Agent.id).where(Agent.workspace_id == workspace_id, col(Agent.id).in_(wanted))
    found = set((await session.exec(query)).all())
    missing = [i for i in dict.fromkeys(member_ids) if i not in found]
    if missing:
        ids = ", ".join(str(i) for i in missing)
        raise _invalid("member_ids", f"No agent {ids} in this workspace.")
    if selector_id is not None and selector_id not in found:
        raise _invalid("selector_agent_id", f"No agent {selector_id} in this workspace.")


def _check_strategy(strategy: str, selector_id: uuid.UUID | None) -> None:
    if strategy == "selector" and selector_id is None:
        raise _invalid(
            "selector_agent_id",
            "The selector strategy needs a selector_agent_id: the agent that picks who speaks.",
        )
    if strategy not in USES_SELECTOR and selector_id is not None:
        raise _invalid(
            "selector_agent_id",
            f"The {strategy} strategy takes no selector agent (only selector, and parallel "
            "as aggregator).",
        )


async def _set_members(session: AsyncSession, team_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    await session.exec(delete(TeamMember).where(col(TeamMember.team_id) == team_id))
    await session.flush()
    for position, agent_id in enumerate(ids):
        session.add(TeamMember(team_id=team_id, agent_id=agent_id, position=position))
    await session.flush()


async def list_teams(*, session: AsyncSession, actor: Actor, page: Page) -> TeamsPublic:
    """Teams of the actor's workspace, by name, filtered by `q` and `tag`."""
    require(actor, "teams.read")
    query = select(Team).where(Team.workspace_id == actor.workspace_id)
    query = apply_filters(query, page=page, name_column=col(Team.name), tags_column=Team.tags)
    rows, count = await paginate(session, query, page=page, order_by=by_name(Team.name, Team.id))
    members: dict[uuid.UUID, list[TeamMemberPublic]] = {t.id: [] for t in rows}
    if rows:
        query_members = (
            select(TeamMember, Agent.name)
            .join(Agent, col(Agent.id) == col(TeamMember.agent_id))
            .where(col(TeamMember.team_id).in_(list(members)))
            .order_by(col(TeamMember.position))
        )
        for member, name in (await session.exec(query_members)).all():
            members[member.team_id].append(
                TeamMemberPublic(agent_id=member.agent_id, name=name, position=member.position)
            )
    return TeamsPublic(data=[_public(t, members[t.id]) for t in rows], count=count)


async def get_team(*, session: AsyncSession, actor: Actor, team_id: uuid.UUID) -> TeamPublic:
    require(actor, "teams.read")
    return await to_public(session, await load_team(session, actor.workspace_id, team_id))


async def create_team(*, session: AsyncSession, actor: Actor, data: TeamCreate) -> TeamPublic:
    """A new team at version 1 with members in the given order."""
    require(actor, "teams.write")
    _check_strategy(data.strategy, data.selector_agent_id)
    await ensure_name_free(session, Team, actor.workspace_id, data.name)
    await _check_agents(session, actor.workspace_id, data.member_ids, data.selector_agent_id)
    team = Team(
        workspace_id=actor.workspace_id,
        name=data.name,
        description=data.description,
        strategy=data.strategy,
        selector_agent_id=data.selector_agent_id,
        tags=data.tags,
        created_by=actor.user_id,
        **data.termination.model_dump(),
    )
    session.add(team)
    await session.flush()
    await _set_members(session, team.id, data.member_ids)
    public = await to_public(session, team)
    audit.record(
        session,
        actor=actor,
        action="team.create",
        resource_type="team",
        resource_id=team.id,
        after=public,
    )
    await commit_unique(session, "team", team.name)
    return public


async def update_team(
    *,
    session: AsyncSession,
    actor: Actor,
    team_id: uuid.UUID,
    data: TeamUpdate,
    expected_version: int | None = None,
) -> TeamPublic:
    """Change the given fields (members are replaced as a whole); the version goes up by one."""
    require(actor, "teams.write")
    team = await load_team(session, actor.workspace_id, team_id, lock=True)
    check_version("team", team.version, expected_version)
    updates: dict[str, Any] = changes(data, nullable=frozenset({"selector_agent_id"}))
    before = await to_public(session, team)
    if "name" in updates and updates["name"] != team.name:
        await ensure_name_free(session, Team, actor.workspace_id, updates["name"], exclude=team.id)
    strategy = updates.get("strategy", team.strategy)
    selector = updates.get("selector_agent_id", team.selector_agent_id)
    if "selector_agent_id" not in updates and strategy not in USES_SELECTOR:
        selector = None  # switching to a strategy without a selector drops it
    _check_strategy(strategy, selector)
    member_ids: list[uuid.UUID] | None = updates.get("member_ids")
    await _check_agents(session, actor.workspace_id, member_ids or [], selector)
    for key in ("name", "description", "strategy", "tags"):
        if key in updates:
            setattr(team, key, updates[key])
    team.selector_agent_id = selector
    if "termination" in updates:
        for key, value in data.termination.model_dump().items():  # type: ignore[union-attr]
            setattr(team, key, value)
    if member_ids is not None:
        await _set_members(session, team.id, member_ids)
    team.version += 1
    team.updated_at = utcnow()
    session.add(team)
    await session.flush()
    public = await to_public(session, team)
    audit.record(
        session,
        actor=actor,
        action="team.update",
        resource_type="team",
        resource_id=team.id,
        before=before,
        after=public,
    )
    await commit_unique(session, "team", team.name)
    return public


async def delete_team(
    *,
    session: AsyncSession,
    actor: Actor,
    team_id: uuid.UUID,
    expected_version: int | None = None,
) -> None:
    """Remove a team (its past runs keep their trace)."""
    require(actor, "teams.write")
    team = await load_team(session, actor.workspace_id, team_id, lock=True)
    check_version("team", team.version, expected_version)
    audit.record(
        session,
        actor=actor,
        action="team.delete",
        resource_type="team",
        resource_id=team.id,
        before=await to_public(session, team),
    )
    await session.exec(delete(TeamMember).where(col(TeamMember.team_id) == team.id))
    await session.delete(team)
    await session.commit()
