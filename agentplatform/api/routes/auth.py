"""Sign-up, sign-in, token refresh and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from agentplatform.api.deps import SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.common import InputText
from agentplatform.models.workspace import UserRegister
from agentplatform.services import auth
from agentplatform.services.auth import TokensPublic

router = APIRouter(prefix="/auth", tags=["auth"])

RefreshTokenStr = Annotated[str, InputText(max_length=256, min_length=1)]


class LoginRequest(BaseModel):
    email: Annotated[str, InputText(max_length=254, min_length=1, strip=True)]
    password: Annotated[str, InputText(max_length=256, min_length=1)]


class RefreshRequest(BaseModel):
    refresh_token: RefreshTokenStr


def client_address(request: Request) -> str:
    """The peer address used for throttling (behind a proxy, run uvicorn with proxy headers)."""
    return request.client.host if request.client else "unknown"


@router.post(
    "/register",
    response_model=TokensPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Create an account (with its own workspace) and sign in",
    responses=errors_for(
        403,
        409,
        descriptions={
            403: "Sign-up is closed on this server (ALLOW_SIGNUP=false)",
            409: "An account with this email already exists",
            422: "Invalid input, or the password breaks the strength rules (listed in details)",
        },
    ),
)
async def register(data: UserRegister, session: SessionDep) -> TokensPublic:
    return await auth.register(session=session, data=data)


@router.post(
    "/login",
    response_model=TokensPublic,
    summary="Sign in with email and password",
    responses=errors_for(
        401, 429, descriptions={401: "Incorrect email or password, or a disabled account"}
    ),
)
async def login(data: LoginRequest, request: Request, session: SessionDep) -> TokensPublic:
    return await auth.login(
        session=session,
        email=data.email,
        password=data.password,
        client_address=client_address(request),
    )


@router.post(
    "/refresh",
    response_model=TokensPublic,
    summary="Exchange a refresh token for new tokens (the old one stops working)",
    responses=errors_for(
        401, descriptions={401: "The refresh token is unknown, expired, revoked or reused"}
    ),
)
async def refresh(data: RefreshRequest, session: SessionDep) -> TokensPublic:
    return await auth.refresh(session=session, refresh_token=data.refresh_token)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    response_model=None,
    summary="Sign out: revoke the refresh token (access tokens expire on their own)",
    responses=errors_for(),
)
async def logout(data: RefreshRequest, session: SessionDep) -> Response:
    await auth.logout(session=session, refresh_token=data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
