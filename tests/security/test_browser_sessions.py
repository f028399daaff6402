"""The browser session: HttpOnly cookies set by the API, CSRF proof for cookie-authenticated
writes, and bearer / API-key clients unchanged (findings 1 and 7 of issue 15)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import httpx
import pytest

from agentplatform.core.config import Environment, get_settings
from agentplatform.core.session_cookies import session_token_from_handshake
from agentplatform.services import login_throttle
from tests.factories import PASSWORD, make_user

SIGN_IN = "/api/auth/session"
EVIL = "https://evil.example"


@pytest.fixture(autouse=True)
async def fresh_throttle() -> AsyncIterator[None]:
    await login_throttle.reset_throttle()
    yield
    await login_throttle.reset_throttle()


def set_cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of a response, parsed, by cookie name."""
    parsed: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            parsed[name] = cookie
    return parsed


async def sign_in(
    api: httpx.AsyncClient, email: str, headers: dict[str, str] | None = None
) -> tuple[str, str, httpx.Response]:
    """(session token, CSRF token, response) of a browser sign-in; the client keeps no cookie."""
    response = await api.post(
        SIGN_IN, json={"email": email, "password": PASSWORD}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    cookies = set_cookies(response)
    api.cookies.clear()
    session_name = next(n for n in cookies if n.endswith("ap_session"))
    csrf_name = next(n for n in cookies if n.endswith("ap_csrf"))
    return (
        cookies[session_name][session_name].value,
        cookies[csrf_name][csrf_name].value,
        response,
    )


def cookie(session: str, name: str = "ap_session") -> dict[str, str]:
    return {"Cookie": f"{name}={session}"}


async def test_sign_in_sets_an_httponly_strict_session_cookie_and_returns_no_token(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    session, csrf, response = await sign_in(api, user.email)
    body = response.json()
    assert set(body) == {"user", "expires_in"}
    assert body["user"]["email"] == user.email
    assert session not in response.text and "token" not in response.text
    jar = set_cookies(response)
    session_cookie, csrf_cookie = jar["ap_session"]["ap_session"], jar["ap_csrf"]["ap_csrf"]
    assert session_cookie["httponly"] is True  # page scripts cannot read it
    assert session_cookie["samesite"].lower() == "strict"
    assert session_cookie["path"] == "/"
    assert int(session_cookie["max-age"]) == get_settings().refresh_token_days * 86400
    assert not session_cookie["secure"]  # plain http in development (localhost)
    assert not csrf_cookie["httponly"]  # the app's own pages read it to prove themselves
    assert csrf_cookie["samesite"].lower() == "strict" and csrf != session


async def test_over_https_the_cookies_are_secure_and_host_prefixed(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user()
    https = {"X-Forwarded-Proto": "https"}
    session, _, response = await sign_in(api, user.email, headers=https)
    jar = set_cookies(response)
    assert set(jar) == {"__Host-ap_session", "__Host-ap_csrf"}
    assert jar["__Host-ap_session"]["__Host-ap_session"]["secure"] is True
    assert jar["__Host-ap_csrf"]["__Host-ap_csrf"]["secure"] is True
    assert response.headers["strict-transport-security"].startswith("max-age=")
    prefixed = await api.get(
        "/api/users/me", headers={**https, **cookie(session, "__Host-ap_session")}
    )
    assert prefixed.status_code == 200, prefixed.text
    # Over https only the prefixed cookie counts: a plain one could come from a sibling domain.
    planted = await api.get("/api/users/me", headers={**https, **cookie(session)})
    assert planted.status_code == 401, planted.text

    # Production served over plain http (a LAN, a local container) still signs in.
    monkeypatch.setattr(get_settings(), "environment", Environment.production)
    session, _, response = await sign_in(api, user.email)
    assert set(set_cookies(response)) == {"ap_session", "ap_csrf"}
    assert (await api.get("/api/users/me", headers=cookie(session))).status_code == 200


async def test_cookie_reads_work_but_writes_without_the_csrf_proof_are_refused(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    session, csrf, _ = await sign_in(api, user.email)
    me = await api.get("/api/users/me", headers=cookie(session))
    assert me.status_code == 200 and me.json()["email"] == user.email

    change = {"full_name": "Changed by a forged request"}
    refused = await api.patch("/api/users/me", json=change, headers=cookie(session))
    assert refused.status_code == 403, refused.text
    error = refused.json()["error"]
    assert error["code"] == "permission_denied"
    assert "X-CSRF-Token" in error["message"] and "Bearer" in error["message"]
    wrong = await api.patch(
        "/api/users/me", json=change, headers={**cookie(session), "X-CSRF-Token": "0" * 64}
    )
    assert wrong.status_code == 403
    other_session, other_csrf, _ = await sign_in(api, (await make_user()).email)
    swapped = await api.patch(
        "/api/users/me", json=change, headers={**cookie(session), "X-CSRF-Token": other_csrf}
    )
    assert swapped.status_code == 403  # the proof is bound to its own session
    assert (await api.get("/api/users/me", headers=cookie(session))).json()["full_name"] != (
        change["full_name"]
    )

    proven = {"full_name": "Changed by the app"}
    accepted = await api.patch(
        "/api/users/me", json=proven, headers={**cookie(session), "X-CSRF-Token": csrf}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["full_name"] == "Changed by the app"
    assert other_session != session


async def test_a_cookie_write_from_another_site_is_refused_even_with_the_proof(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    session, csrf, _ = await sign_in(api, user.email)
    headers = {**cookie(session), "X-CSRF-Token": csrf, "Origin": EVIL}
    response = await api.patch("/api/users/me", json={"full_name": "x"}, headers=headers)
    assert response.status_code == 403
    assert "another site" in response.json()["error"]["message"]
    own = {**cookie(session), "X-CSRF-Token": csrf, "Origin": "http://testserver"}
    assert (await api.patch("/api/users/me", json={"full_name": "y"}, headers=own)).is_success


async def test_bearer_and_api_key_clients_need_no_csrf_proof(api: httpx.AsyncClient) -> None:
    user = await make_user()
    session, _, _ = await sign_in(api, user.email)
    key = await api.post("/api/api-keys", headers=user.headers, json={"name": "ci"})
    assert key.status_code == 201, key.text
    clients = {
        "bearer": user.headers,
        "api key": {"X-API-Key": key.json()["secret"]},
        "bearer with a cookie too": {**user.headers, **cookie(session)},
    }
    for name, headers in clients.items():
        response = await api.post("/api/agents", headers=headers, json={"name": name})
        assert response.status_code == 201, (name, response.text)


async def test_sign_in_and_sign_up_from_another_site_are_refused(api: httpx.AsyncClient) -> None:
    user = await make_user()
    forged = await api.post(
        SIGN_IN, json={"email": user.email, "password": PASSWORD}, headers={"Origin": EVIL}
    )
    assert forged.status_code == 403 and not forged.headers.get_list("set-cookie")
    signup = await api.post(
        f"{SIGN_IN}/register",
        json={"email": "new@example.com", "password": "analytical-engine-1843"},
        headers={"Origin": EVIL},
    )
    assert signup.status_code == 403
    await sign_in(api, user.email, headers={"Origin": "http://testserver"})


async def test_sign_up_sets_the_session_and_bad_input_gets_a_clear_422(
    api: httpx.AsyncClient,
) -> None:
    created = await api.post(
        f"{SIGN_IN}/register",
        json={"email": "ada@example.com", "password": "analytical-engine-1843", "full_name": "A"},
    )
    assert created.status_code == 201, created.text
    assert {"ap_session", "ap_csrf"} <= set(set_cookies(created))
    assert "token" not in created.text
    api.cookies.clear()
    weak = await api.post(f"{SIGN_IN}/register", json={"email": "b@example.com", "password": "x"})
    assert weak.status_code == 422
    assert weak.json()["error"]["details"][0]["field"] == "password"
    wrong = await api.post(SIGN_IN, json={"email": "ada@example.com", "password": "nope-nope-1"})
    assert wrong.status_code == 401 and not wrong.headers.get_list("set-cookie")


async def test_sign_out_revokes_the_session_and_clears_both_cookies(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    session, csrf, _ = await sign_in(api, user.email)
    without_proof = await api.delete(SIGN_IN, headers=cookie(session))
    assert without_proof.status_code == 403
    assert (await api.get("/api/users/me", headers=cookie(session))).status_code == 200

    response = await api.delete(SIGN_IN, headers={**cookie(session), "X-CSRF-Token": csrf})
    assert response.status_code == 204
    cleared = set_cookies(response)
    for name in ("ap_session", "ap_csrf"):
        assert cleared[name][name].value == "" and int(cleared[name][name]["max-age"]) == 0
    gone = await api.get("/api/users/me", headers=cookie(session))
    assert gone.status_code == 401
    assert "session has ended" in gone.json()["error"]["message"]


async def test_a_stolen_session_exchanged_for_tokens_revokes_the_whole_family(
    api: httpx.AsyncClient,
) -> None:
    user = await make_user()
    session, _, _ = await sign_in(api, user.email)
    stolen = await api.post("/api/auth/refresh", json={"refresh_token": session})
    assert stolen.status_code == 200  # the thief got tokens for a moment…
    victim = await api.get("/api/users/me", headers=cookie(session))
    assert victim.status_code == 401  # …the browser's next use shows the reuse…
    assert "already used" in victim.json()["error"]["message"]
    thief = await api.post(
        "/api/auth/refresh", json={"refresh_token": stolen.json()["refresh_token"]}
    )
    assert thief.status_code == 401  # …and ends every session of the family


async def test_a_password_change_ends_cookie_sessions_at_once(api: httpx.AsyncClient) -> None:
    user = await make_user()
    session, _, _ = await sign_in(api, user.email)
    changed = await api.patch(
        "/api/users/me",
        headers=user.headers,
        json={"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-9"},
    )
    assert changed.status_code == 200, changed.text
    assert (await api.get("/api/users/me", headers=cookie(session))).status_code == 401


async def test_junk_and_unknown_session_cookies_are_401_not_500(api: httpx.AsyncClient) -> None:
    for value in ("rt_" + "x" * 43, "not a token", "'; DROP TABLE refreshtoken; --", "é" * 40):
        header = f"ap_session={value}".encode()
        response = await api.get("/api/users/me", headers={"Cookie": header})  # type: ignore[dict-item]
        assert response.status_code == 401, (value, response.text)


async def test_signing_in_again_revokes_the_session_it_replaces(api: httpx.AsyncClient) -> None:
    user = await make_user()
    first, _, _ = await sign_in(api, user.email)
    second, _, _ = await sign_in(api, user.email, headers=cookie(first))
    assert second != first  # a new session at every sign-in (no fixation)
    assert (await api.get("/api/users/me", headers=cookie(first))).status_code == 401
    assert (await api.get("/api/users/me", headers=cookie(second))).status_code == 200


def test_the_ui_reads_the_session_from_its_websocket_handshake_by_the_same_rules() -> None:
    token = "rt_" + "a" * 43
    plain, prefixed = f"theme=dark; ap_session={token}", f"__Host-ap_session={token}; x=1"
    read = session_token_from_handshake
    assert read({"cookie": plain, "origin": "http://localhost:3000"}) == token
    assert read({"cookie": prefixed, "origin": "https://app.example.com"}) == token
    assert read({"cookie": plain, "origin": "https://app.example.com"}) is None
    assert read({"cookie": plain, "origin": "", "x-forwarded-proto": "https"}) is None
    assert read({"cookie": "ap_session=<script>", "origin": "http://x"}) is None
    assert read({"origin": "http://x"}) is None
