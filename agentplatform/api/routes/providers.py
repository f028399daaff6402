"""LLM providers of the current workspace; API keys go in and never come out."""

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
from agentplatform.models.provider import (
    ProviderCreate,
    ProviderPublic,
    ProvidersPublic,
    ProviderUpdate,
)
from agentplatform.services import providers

router = APIRouter(prefix="/providers", tags=["providers"])


@router.get(
    "",
    response_model=ProvidersPublic,
    summary="List providers (by name; filter with q)",
    responses=errors_for(401, 403, 404),
)
async def list_providers(actor: ActorDep, session: SessionDep, page: PageQuery) -> ProvidersPublic:
    return await providers.list_providers(session=session, actor=actor, page=page)


@router.post(
    "",
    response_model=ProviderPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Add a provider (owners, admins); the API key is stored encrypted",
    responses={
        201: {"headers": CREATED_HEADERS},
        **errors_for(
            401,
            403,
            404,
            409,
            descriptions={
                409: "A provider with this name exists in the workspace",
                422: "Invalid fields, a missing base_url (openai) or API key (anthropic)",
            },
        ),
    },
)
async def create_provider(
    data: ProviderCreate, actor: ActorDep, session: SessionDep, response: Response
) -> ProviderPublic:
    provider = await providers.create_provider(session=session, actor=actor, data=data)
    created(response, f"/providers/{provider.id}", provider.version)
    return provider


@router.get(
    "/{provider_id}",
    response_model=ProviderPublic,
    summary="Get a provider (never its API key)",
    responses={200: {"headers": ETAG_HEADER}, **errors_for(401, 403, 404)},
)
async def get_provider(
    provider_id: uuid.UUID, actor: ActorDep, session: SessionDep, response: Response
) -> ProviderPublic:
    provider = await providers.get_provider(session=session, actor=actor, provider_id=provider_id)
    set_etag(response, provider.version)
    return provider


@router.patch(
    "/{provider_id}",
    response_model=ProviderPublic,
    summary="Change a provider; api_key null or empty removes the key",
    responses={
        200: {"headers": ETAG_HEADER},
        **errors_for(
            401,
            403,
            404,
            409,
            412,
            descriptions={409: "The new name is taken, or agents use a model being removed"},
        ),
    },
)
async def update_provider(
    provider_id: uuid.UUID,
    data: ProviderUpdate,
    actor: ActorDep,
    session: SessionDep,
    response: Response,
    expected: ExpectedVersion,
) -> ProviderPublic:
    provider = await providers.update_provider(
        session=session,
        actor=actor,
        provider_id=provider_id,
        data=data,
        expected_version=expected,
    )
    set_etag(response, provider.version)
    return provider


@router.delete(
    "/{provider_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a provider that no agent uses",
    responses=errors_for(
        401, 403, 404, 409, 412, descriptions={409: "Agents use this provider (they are named)"}
    ),
)
async def delete_provider(
    provider_id: uuid.UUID, actor: ActorDep, session: SessionDep, expected: ExpectedVersion
) -> Response:
    await providers.delete_provider(
        session=session, actor=actor, provider_id=provider_id, expected_version=expected
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
