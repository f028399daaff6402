"""Agents of the current workspace."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from agentplatform.api.concurrency import (
    CREATED_HEADERS,
    ETAG_HEADER,
    ExpectedVersion,
    PageQuery,
    created,
    set_etag,
)
from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.agent import AgentCreate, AgentPublic, AgentsPublic, AgentUpdate
from agentplatform.services import agents

router = APIRouter(prefix="/agents", tags=["agents"])


@router.get(
    "",
    response_model=AgentsPublic,
    summary="List agents (by name; filter with q and tag)",
    responses=errors_for(401, 403, 404),
)
async def list_agents(actor: ActorDep, session: SessionDep, page: PageQuery) -> AgentsPublic:
    return await agents.list_agents(session=session, actor=actor, page=page)


@router.post(
    "",
    response_model=AgentPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create an agent",
    responses={
        201: {"headers": CREATED_HEADERS},
        **errors_for(
            401,
            403,
            404,
            409,
            descriptions={
                409: "An agent with this name exists in the workspace",
                422: "Invalid fields, unknown provider/model/prompt/label/version or tool",
            },
        ),
    },
)
async def create_agent(
    data: AgentCreate, actor: ActorDep, session: SessionDep, response: Response
) -> AgentPublic:
    agent = await agents.create_agent(session=session, actor=actor, data=data)
    created(response, f"/agents/{agent.id}", agent.version)
    return agent


@router.get(
    "/{agent_id}",
    response_model=AgentPublic,
    summary="Get an agent",
    responses={200: {"headers": ETAG_HEADER}, **errors_for(401, 403, 404)},
)
async def get_agent(
    agent_id: uuid.UUID, actor: ActorDep, session: SessionDep, response: Response
) -> AgentPublic:
    agent = await agents.get_agent(session=session, actor=actor, agent_id=agent_id)
    set_etag(response, agent.version)
    return agent


@router.patch(
    "/{agent_id}",
    response_model=AgentPublic,
    summary="Change some fields of an agent (send If-Match to avoid lost updates)",
    responses={
        200: {"headers": ETAG_HEADER},
        **errors_for(401, 403, 404, 409, 412, descriptions={409: "The new name is taken"}),
    },
)
async def update_agent(
    agent_id: uuid.UUID,
    data: AgentUpdate,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    expected: ExpectedVersion,
) -> AgentPublic:
    agent = await agents.update_agent(
        session=session, actor=actor, agent_id=agent_id, data=data, expected_version=expected
    )
    set_etag(response, agent.version)
    return agent


@router.delete(
    "/{agent_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete an agent that no team uses",
    responses=errors_for(
        401, 403, 404, 409, 412, descriptions={409: "A team uses this agent (the teams are named)"}
    ),
)
async def delete_agent(
    agent_id: uuid.UUID, actor: ActorDep, session: SessionDep, expected: ExpectedVersion
) -> Response:
    await agents.delete_agent(
        session=session, actor=actor, agent_id=agent_id, expected_version=expected
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
