"""Browser sessions: sign in, sign up and sign out with HttpOnly cookies (the UI's way in).

Programs use /auth/login and bearer tokens instead; these endpoints never return a token.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from agentplatform.api.deps import SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.api.routes.auth import LoginRequest, client_address
from agentplatform.api.session_cookies import (
    clear_session_cookies,
    require_csrf,
    require_same_origin,
    session_token_of,
    set_session_cookies,
)
from agentplatform.models.workspace import UserPublic, UserRegister
from agentplatform.services import auth
from agentplatform.services.auth import TokensPublic

router = APIRouter(prefix="/auth/session", tags=["auth"])
_COOKIES = (
    "The session is set as cookies: `ap_session` (HttpOnly, SameSite=Strict; `__Host-ap_session` "
    "and Secure over https) and `ap_csrf`, whose value state-changing API calls that rely on the "
    "cookie must echo in the `X-CSRF-Token` header."
)


class SessionPublic(BaseModel):
    """A signed-in browser: who, and for how long. The session itself is only in cookies."""

    user: UserPublic
    expires_in: int = Field(description="Seconds until the session ends (sign in again then)")


async def _signed_in(
    request: Request, response: Response, session: SessionDep, tokens: TokensPublic
) -> SessionPublic:
    """Set the new session's cookies; the session they replace (if any) is revoked."""
    replaced = session_token_of(request)
    if replaced is not None:
        await auth.logout(session=session, refresh_token=replaced)
    set_session_cookies(
        response, request, token=tokens.refresh_token, max_age=tokens.refresh_expires_in
    )
    return SessionPublic(user=tokens.user, expires_in=tokens.refresh_expires_in)


@router.post(
    "",
    response_model=SessionPublic,
    summary="Sign a browser in (session cookies)",
    description=_COOKIES,
    responses=errors_for(
        401,
        403,
        429,
        descriptions={
            401: "Incorrect email or password, or a disabled account",
            403: "Sent by a page of another site",
        },
    ),
)
async def create_session(
    data: LoginRequest, request: Request, response: Response, session: SessionDep
) -> SessionPublic:
    require_same_origin(request)
    tokens = await auth.login(
        session=session,
        email=data.email,
        password=data.password,
        client_address=client_address(request),
    )
    return await _signed_in(request, response, session, tokens)


@router.post(
    "/register",
    response_model=SessionPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create an account (with its own workspace) and sign this browser in",
    description=_COOKIES,
    responses=errors_for(
        403,
        409,
        descriptions={
            403: "Sign-up is closed on this server, or sent by a page of another site",
            409: "An account with this email already exists",
            422: "Invalid input, or the password breaks the strength rules (listed in details)",
        },
    ),
)
async def register_session(
    data: UserRegister, request: Request, response: Response, session: SessionDep
) -> SessionPublic:
    require_same_origin(request)
    tokens = await auth.register(session=session, data=data)
    response.status_code = status.HTTP_201_CREATED
    return await _signed_in(request, response, session, tokens)


@router.delete(
    "",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    response_model=None,
    summary="Sign this browser out: revoke its session and clear the cookies",
    description="Needs the `X-CSRF-Token` header when a session cookie is sent.",
    responses=errors_for(403, descriptions={403: "The CSRF proof is missing or wrong"}),
)
async def delete_session(request: Request, session: SessionDep) -> Response:
    token = session_token_of(request)
    if token is not None:
        require_csrf(request, token)
        await auth.logout(session=session, refresh_token=token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, request)
    return response
