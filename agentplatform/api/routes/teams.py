"""Teams of the current workspace: ordered member agents under a strategy."""

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
from agentplatform.models.team import TeamCreate, TeamPublic, TeamsPublic, TeamUpdate
from agentplatform.services import teams

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get(
    "",
    response_model=TeamsPublic,
    summary="List teams (by name; filter with q and tag)",
    responses=errors_for(401, 403, 404),
)
async def list_teams(actor: ActorDep, session: SessionDep, page: PageQuery) -> TeamsPublic:
    return await teams.list_teams(session=session, actor=actor, page=page)


@router.post(
    "",
    response_model=TeamPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a team",
    responses={
        201: {"headers": CREATED_HEADERS},
        **errors_for(
            401,
            403,
            404,
            409,
            descriptions={
                409: "A team with this name exists in the workspace",
                422: "Invalid fields, an agent not in the workspace, or a missing selector",
            },
        ),
    },
)
async def create_team(
    data: TeamCreate, actor: ActorDep, session: SessionDep, response: Response
) -> TeamPublic:
    team = await teams.create_team(session=session, actor=actor, data=data)
    created(response, f"/teams/{team.id}", team.version)
    return team


@router.get(
    "/{team_id}",
    response_model=TeamPublic,
    summary="Get a team with its members in order",
    responses={200: {"headers": ETAG_HEADER}, **errors_for(401, 403, 404)},
)
async def get_team(
    team_id: uuid.UUID, actor: ActorDep, session: SessionDep, response: Response
) -> TeamPublic:
    team = await teams.get_team(session=session, actor=actor, team_id=team_id)
    set_etag(response, team.version)
    return team


@router.patch(
    "/{team_id}",
    response_model=TeamPublic,
    summary="Change some fields of a team; member_ids replaces the members in order",
    responses={
        200: {"headers": ETAG_HEADER},
        **errors_for(401, 403, 404, 409, 412, descriptions={409: "The new name is taken"}),
    },
)
async def update_team(
    team_id: uuid.UUID,
    data: TeamUpdate,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    expected: ExpectedVersion,
) -> TeamPublic:
    team = await teams.update_team(
        session=session, actor=actor, team_id=team_id, data=data, expected_version=expected
    )
    set_etag(response, team.version)
    return team


@router.delete(
    "/{team_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a team (its past runs stay readable)",
    responses=errors_for(401, 403, 404, 412),
)
async def delete_team(
    team_id: uuid.UUID, actor: ActorDep, session: SessionDep, expected: ExpectedVersion
) -> Response:
    await teams.delete_team(
        session=session, actor=actor, team_id=team_id, expected_version=expected
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
