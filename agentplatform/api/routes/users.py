"""The signed-in user's own account."""

from __future__ import annotations

from fastapi import APIRouter, Request

from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.api.routes.auth import client_address
from agentplatform.models.workspace import UserPublic, UserUpdateMe
from agentplatform.services import users

router = APIRouter(prefix="/users", tags=["users"])


@router.get(
    "/me",
    response_model=UserPublic,
    summary="Your account",
    responses=errors_for(401, 404),
)
async def get_me(actor: ActorDep, session: SessionDep) -> UserPublic:
    return await users.get_me(session=session, actor=actor)


@router.patch(
    "/me",
    response_model=UserPublic,
    summary="Update your profile, onboarding, default workspace or password",
    responses=errors_for(
        401,
        403,
        404,
        429,
        descriptions={
            403: "API keys cannot change account settings",
            404: "The default workspace is not one of yours",
            422: "Invalid input, a wrong current password, or a weak new password",
            429: "Too many wrong current passwords",
        },
    ),
)
async def update_me(
    data: UserUpdateMe, request: Request, actor: ActorDep, session: SessionDep
) -> UserPublic:
    return await users.update_me(
        session=session, actor=actor, data=data, client_address=client_address(request)
    )
