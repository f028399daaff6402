"""Request dependencies: a database session and the acting user in one workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.api.session_cookies import require_csrf, session_token_of
from agentplatform.core import logging as log_context
from agentplatform.core.db import session_scope
from agentplatform.core.errors import Unauthenticated
from agentplatform.services.identity import actor_from_session, resolve_actor
from agentplatform.services.permissions import Actor

_bearer = HTTPBearer(
    auto_error=False,
    description="An access token from /api/auth/login, or an API key (apk_…).",
)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with session_scope() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_actor(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    x_workspace: Annotated[
        str | None,
        Header(description="Workspace id or slug to act in; default: your default workspace."),
    ] = None,
    x_api_key: Annotated[str | None, Header(description="An API key, instead of bearer.")] = None,
) -> Actor:
    """The caller, from `Authorization: Bearer …`, `X-API-Key` or (a signed-in browser) the
    session cookie, in the chosen workspace. Cookie-authenticated writes need the CSRF proof."""
    credential = credentials.credentials if credentials else x_api_key
    browser_session = None if credential else session_token_of(request)
    if browser_session:
        require_csrf(request, browser_session)
        actor = await actor_from_session(
            session=session, token=browser_session, workspace_ref=x_workspace
        )
    elif credential:
        actor = await resolve_actor(
            session=session, credential=credential, workspace_ref=x_workspace
        )
    else:
        raise Unauthenticated("Sign in first: send 'Authorization: Bearer <access token>'.")
    log_context.user_id.set(str(actor.user_id))
    log_context.workspace_id.set(str(actor.workspace_id))
    request.state.actor = actor
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]
