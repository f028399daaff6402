"""API keys of the current workspace (choose it with `X-Workspace`)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.workspace import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyPublic,
    ApiKeysPublic,
)
from agentplatform.services import api_keys

router = APIRouter(prefix="/api-keys", tags=["api keys"])


@router.get(
    "",
    response_model=ApiKeysPublic,
    summary="The workspace's API keys, newest first (owners, admins)",
    responses=errors_for(401, 403, 404),
)
async def list_api_keys(actor: ActorDep, session: SessionDep) -> ApiKeysPublic:
    return await api_keys.list_api_keys(session=session, actor=actor)


@router.post(
    "",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key; its secret is shown only in this answer",
    responses=errors_for(
        401,
        403,
        404,
        409,
        descriptions={
            403: "Your role cannot manage keys, or the key's role exceeds yours",
            409: "A key with this name exists",
        },
    ),
)
async def create_api_key(data: ApiKeyCreate, actor: ActorDep, session: SessionDep) -> ApiKeyCreated:
    return await api_keys.create_api_key(session=session, actor=actor, data=data)


@router.delete(
    "/{key_id}",
    response_model=ApiKeyPublic,
    summary="Revoke an API key: it stops working at once",
    responses=errors_for(401, 403, 404),
)
async def revoke_api_key(key_id: uuid.UUID, actor: ActorDep, session: SessionDep) -> ApiKeyPublic:
    return await api_keys.revoke_api_key(session=session, actor=actor, key_id=key_id)
