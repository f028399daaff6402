"""Workspaces and their members; `{workspace_id}` routes act in that workspace (id or slug)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from agentplatform.api import deps
from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.workspace import (
    MemberAdd,
    MemberPublic,
    MembersPublic,
    MemberUpdate,
    WorkspaceCreate,
    WorkspacePublic,
    WorkspacesPublic,
)
from agentplatform.services import workspaces
from agentplatform.services.permissions import Actor
from agentplatform.services.workspaces import WorkspaceUpdate

router = APIRouter(prefix="/workspaces", tags=["workspaces"])


async def actor_in_path_workspace(
    request: Request,
    session: SessionDep,
    workspace_id: Annotated[
        str, Path(max_length=64, description="Workspace id or slug (you must be a member)")
    ],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(deps._bearer)],
    x_api_key: Annotated[str | None, Header(description="An API key, instead of bearer.")] = None,
) -> Actor:
    """The caller acting in the workspace named by the path; 404 when not a member."""
    return await deps.get_actor(
        request, session, credentials, x_workspace=workspace_id, x_api_key=x_api_key
    )


WorkspaceActor = Annotated[Actor, Depends(actor_in_path_workspace)]


@router.get(
    "",
    response_model=WorkspacesPublic,
    summary="The workspaces you belong to, with your role in each",
    responses=errors_for(401, 404),
)
async def list_workspaces(actor: ActorDep, session: SessionDep) -> WorkspacesPublic:
    return await workspaces.list_my_workspaces(session=session, actor=actor)


@router.post(
    "",
    response_model=WorkspacePublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create a workspace; you become its owner",
    responses=errors_for(
        401, 403, 404, 409, descriptions={409: "The slug is taken", 403: "API keys cannot"}
    ),
)
async def create_workspace(
    data: WorkspaceCreate, actor: ActorDep, session: SessionDep
) -> WorkspacePublic:
    return await workspaces.create_workspace(session=session, actor=actor, data=data)


@router.get(
    "/{workspace_id}",
    response_model=WorkspacePublic,
    summary="A workspace you belong to, with your role",
    responses=errors_for(401, 404),
)
async def get_workspace(actor: WorkspaceActor, session: SessionDep) -> WorkspacePublic:
    return await workspaces.get_workspace(session=session, actor=actor)


@router.patch(
    "/{workspace_id}",
    response_model=WorkspacePublic,
    summary="Rename a workspace or change its slug (owners, admins)",
    responses=errors_for(401, 403, 404, 409, descriptions={409: "The slug is taken"}),
)
async def update_workspace(
    data: WorkspaceUpdate, actor: WorkspaceActor, session: SessionDep
) -> WorkspacePublic:
    return await workspaces.update_workspace(session=session, actor=actor, data=data)


@router.get(
    "/{workspace_id}/members",
    response_model=MembersPublic,
    summary="The workspace's members and their roles",
    responses=errors_for(401, 403, 404),
)
async def list_members(actor: WorkspaceActor, session: SessionDep) -> MembersPublic:
    return await workspaces.list_members(session=session, actor=actor)


@router.post(
    "/{workspace_id}/members",
    response_model=MemberPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Add an existing account as a member (owners, admins)",
    responses=errors_for(
        401,
        403,
        404,
        409,
        descriptions={
            403: "Your role cannot manage members, or only an owner can grant the owner role",
            404: "No account with that email (they must register first), or no such workspace",
            409: "Already a member",
        },
    ),
)
async def add_member(data: MemberAdd, actor: WorkspaceActor, session: SessionDep) -> MemberPublic:
    return await workspaces.add_member(session=session, actor=actor, data=data)


@router.patch(
    "/{workspace_id}/members/{user_id}",
    response_model=MemberPublic,
    summary="Change a member's role (owners, admins; owners alone manage owners)",
    responses=errors_for(
        401, 403, 404, 409, descriptions={409: "That would leave the workspace without an owner"}
    ),
)
async def change_role(
    user_id: uuid.UUID, data: MemberUpdate, actor: WorkspaceActor, session: SessionDep
) -> MemberPublic:
    return await workspaces.change_role(session=session, actor=actor, user_id=user_id, data=data)


@router.delete(
    "/{workspace_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    response_model=None,
    summary="Remove a member, or leave (their API keys in this workspace are revoked)",
    responses=errors_for(
        401, 403, 404, 409, descriptions={409: "That would leave the workspace without an owner"}
    ),
)
async def remove_member(user_id: uuid.UUID, actor: WorkspaceActor, session: SessionDep) -> Response:
    await workspaces.remove_member(session=session, actor=actor, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
