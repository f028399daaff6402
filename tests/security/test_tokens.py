"""Access tokens: a correctly signed token is still refused unless it carries `exp`, `iat`, `sub`
and `type: access` (a token without `exp` would be valid forever)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from agentplatform.core.config import get_settings
from agentplatform.core.errors import Unauthenticated
from agentplatform.core.security import JWT_ALGORITHM, decode_access_token
from agentplatform.services.identity import actor_from_access_token
from tests import factories
from tests.api.test_input_validation import assert_error


def forge(claims: dict[str, Any], *, algorithm: str = JWT_ALGORITHM) -> str:
    """A token signed with the server's own key (as a leaked or hand-made token would be)."""
    return jwt.encode(claims, get_settings().secret_key, algorithm=algorithm)


def full_claims(user_id: str) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": user_id, "type": "access", "iat": now, "exp": now + 600}


def without(claims: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != name}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c: without(c, "exp"), "no expiry: valid forever"),
        (lambda c: without(c, "iat"), "no issue time"),
        (lambda c: without(c, "sub"), "no subject"),
        (lambda c: without(c, "type"), "no token type"),
        (lambda c: {**c, "type": "refresh"}, "not an access token"),
        (lambda c: {**c, "exp": int(time.time()) - 5}, "expired"),
        (lambda c: {**c, "iat": int(time.time()) + 3600}, "issued in the future"),
        (lambda c: {**c, "exp": "tomorrow"}, "expiry is not a time"),
    ],
)
async def test_signed_tokens_missing_a_required_claim_are_refused(
    api: httpx.AsyncClient, change: Any, why: str
) -> None:
    user = await factories.make_user()
    token = forge(change(full_claims(str(user.id))))
    response = await api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    error = assert_error(response, 401)
    assert "sign in again" in error["message"], why
    with pytest.raises(Unauthenticated):
        decode_access_token(token)


async def test_the_ui_door_refuses_a_token_without_expiry_too(session: Any) -> None:
    user = await factories.make_user()
    token = forge(without(full_claims(str(user.id)), "exp"))
    with pytest.raises(Unauthenticated):
        await actor_from_access_token(session=session, token=token, workspace_ref=None)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
async def test_other_algorithms_and_unsigned_tokens_are_refused(api: httpx.AsyncClient) -> None:
    user = await factories.make_user()
    claims = full_claims(str(user.id))
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    for token in (forge(claims, algorithm="HS512"), unsigned):
        response = await api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert_error(response, 401)


async def test_a_complete_token_still_works(api: httpx.AsyncClient) -> None:
    user = await factories.make_user()
    token = forge(full_claims(str(user.id)))
    response = await api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json()["id"] == str(user.id)
    issued = await api.get("/api/users/me", headers=user.headers)  # what the server issues
    assert issued.status_code == 200
