"""`AgentPlatformClient` (sync, httpx.Client) and `AsyncAgentPlatformClient` (httpx.AsyncClient).

Both share `Core` (credentials, request building, answers) and `Endpoints` (every resource
method); only sending, token refresh, streaming and waiting are written twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from types import TracebackType
from typing import Any

import httpx

from agentplatform.client._core import (
    DEFAULT_TIMEOUT,
    STREAM_READ_TIMEOUT,
    TERMINAL_STATUSES,
    Core,
    Endpoints,
    Json,
    Prepared,
    SSEParser,
    seg,
)
from agentplatform.client.errors import error_from_response

AsyncJson = Coroutine[Any, Any, Json]
AsyncNone = Coroutine[Any, Any, None]


def _register_body(
    email: str, password: str, full_name: str, persona: str | None
) -> dict[str, Any]:
    return {"email": email, "password": password, "full_name": full_name, "persona": persona}


class AgentPlatformClient(Core, Endpoints[Json, None]):
    """A synchronous client of the AgentPlatform REST API.

    ```python
    client = AgentPlatformClient("http://localhost:3000")
    client.login("me@example.com", "password")
    agent = client.create_agent("helper", instructions="Be brief.")
    run = client.wait(client.create_run(agent_id=agent["id"], input="Hi")["id"])
    ```

    Sign in with `register`/`login` (tokens are refreshed on expiry, once per 401, and the
    call retried), or pass `api_key="apk_…"`. Answers are dicts mirroring the JSON; errors
    raise `ApiError` subclasses. `transport=` (an httpx transport) or `http_client=` (an
    `httpx.Client`) replace the network, e.g. in tests. Safe to share between threads.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        workspace: str | uuid.UUID | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: dict[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        super().__init__(
            base_url,
            api_key=api_key,
            access_token=access_token,
            refresh_token=refresh_token,
            workspace=workspace,
            timeout=timeout,
            headers=headers,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self._lock = threading.Lock()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> AgentPlatformClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- sending -----------------------------------------------------------------------------

    def _send_prepared(self, prepared: Prepared) -> httpx.Response:
        return self._http.request(
            prepared.method,
            prepared.url,
            params=prepared.params,
            json=prepared.body,
            headers=prepared.headers,
        )

    def _refreshed_since(self, stale: str | None) -> bool:
        """Exchange the refresh token unless another thread already did; True if retrying
        makes sense (the access token is now a different one)."""
        with self._lock:
            if self._access_token is not None and self._access_token != stale:
                return True
            if self._refresh_token is None:
                return False
            response = self._send_prepared(self._refresh_request())
            if response.status_code != 200:
                self._clear_tokens()
                return False
            self._store_tokens(response.json())
            return True

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
        auth: bool = True,
    ) -> Any:
        """Any API call (`path` below `/api`, e.g. `/agents`): the JSON answer, or None."""
        prepared = self._prepare(
            method, path, params=params, body=body, if_match=if_match, auth=auth
        )
        response = self._send_prepared(prepared)
        if self._can_refresh(response, prepared) and self._refreshed_since(prepared.token):
            prepared = self._prepare(
                method, path, params=params, body=body, if_match=if_match, auth=auth
            )
            response = self._send_prepared(prepared)
        return self._answer(response)

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
        auth: bool = True,
    ) -> Json:
        answer = self.request(method, path, params=params, body=body, if_match=if_match, auth=auth)
        return answer if isinstance(answer, dict) else {}

    def _empty(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
    ) -> None:
        self.request(method, path, params=params, body=body, if_match=if_match)

    # -- authentication ----------------------------------------------------------------------

    def register(
        self, email: str, password: str, *, full_name: str = "", persona: str | None = None
    ) -> Json:
        """Create an account (with its own workspace) and sign in; answers the tokens+user."""
        body = _register_body(email, password, full_name, persona)
        tokens = self._json("POST", "/auth/register", body=body, auth=False)
        self._store_tokens(tokens)
        return tokens

    def login(self, email: str, password: str) -> Json:
        """Sign in; the tokens are kept (and refreshed) by the client."""
        body = {"email": email, "password": password}
        tokens = self._json("POST", "/auth/login", body=body, auth=False)
        self._store_tokens(tokens)
        return tokens

    def refresh(self) -> Json:
        """Exchange the refresh token now (the client also does it on expiry)."""
        if self._refresh_token is None:
            raise ValueError("Not signed in: there is no refresh token to exchange.")
        with self._lock:
            tokens = self._answer(self._send_prepared(self._refresh_request()))
            self._store_tokens(tokens)
        return dict(tokens)

    def logout(self) -> None:
        """Revoke the refresh token and forget both tokens."""
        token = self._refresh_token
        self._clear_tokens()
        self._user = None
        if token is not None:
            self._empty("POST", "/auth/logout", body={"refresh_token": token})

    def me(self) -> Json:
        user = self._json("GET", "/users/me")
        if self._api_key is None:
            self._user = user
        return user

    # -- runs --------------------------------------------------------------------------------

    def stream_events(self, run_id: str | uuid.UUID, *, after: int | None = None) -> Iterator[Json]:
        """The run's Server-Sent Events as dicts `{"event", "data", "id"}`: `step` events
        (id = seq), `delta` (live text), then one `status` (the final run) and the end."""
        path = f"/runs/{seg(run_id)}/events"
        timeout = httpx.Timeout(self._timeout, read=max(self._timeout, STREAM_READ_TIMEOUT))
        for attempt in range(2):
            prepared = self._prepare("GET", path, params={"after": after})
            prepared.headers["Accept"] = "text/event-stream"
            with self._http.stream(
                "GET", prepared.url, params=prepared.params, headers=prepared.headers,
                timeout=timeout,
            ) as response:  # fmt: skip
                if response.status_code >= 400:
                    response.read()
                    if (
                        attempt == 0
                        and self._can_refresh(response, prepared)
                        and self._refreshed_since(prepared.token)
                    ):
                        continue
                    raise error_from_response(response)
                parser = SSEParser()
                for line in response.iter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        yield event
                last = parser.flush()
                if last is not None:
                    yield last
                return

    def wait(
        self, run_id: str | uuid.UUID, timeout: float = 120.0, *, interval: float = 0.25
    ) -> Json:
        """The run once it has finished (succeeded, failed, cancelled, timed_out); raises
        `TimeoutError` if it is still going after `timeout` seconds (the run goes on)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get_run(run_id)
            if run.get("status") in TERMINAL_STATUSES:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} is still {run.get('status')} after {timeout}s")
            time.sleep(interval)


class AsyncAgentPlatformClient(Core, Endpoints[AsyncJson, AsyncNone]):
    """The asyncio twin of `AgentPlatformClient`: the same methods, awaited.

    ```python
    async with AsyncAgentPlatformClient("http://localhost:3000", api_key="apk_…") as client:
        run = await client.create_run(agent_id=agent_id, input="Hi")
        async for event in client.stream_events(run["id"]):
            ...
    ```
    `transport=` takes an httpx async transport, e.g. `httpx.ASGITransport(app=...)`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        access_token: str | None = None,
        refresh_token: str | None = None,
        workspace: str | uuid.UUID | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url,
            api_key=api_key,
            access_token=access_token,
            refresh_token=refresh_token,
            workspace=workspace,
            timeout=timeout,
            headers=headers,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncAgentPlatformClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- sending -----------------------------------------------------------------------------

    async def _send_prepared(self, prepared: Prepared) -> httpx.Response:
        return await self._http.request(
            prepared.method,
            prepared.url,
            params=prepared.params,
            json=prepared.body,
            headers=prepared.headers,
        )

    async def _refreshed_since(self, stale: str | None) -> bool:
        async with self._lock:
            if self._access_token is not None and self._access_token != stale:
                return True
            if self._refresh_token is None:
                return False
            response = await self._send_prepared(self._refresh_request())
            if response.status_code != 200:
                self._clear_tokens()
                return False
            self._store_tokens(response.json())
            return True

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
        auth: bool = True,
    ) -> Any:
        """Any API call (`path` below `/api`, e.g. `/agents`): the JSON answer, or None."""
        prepared = self._prepare(
            method, path, params=params, body=body, if_match=if_match, auth=auth
        )
        response = await self._send_prepared(prepared)
        if self._can_refresh(response, prepared) and await self._refreshed_since(prepared.token):
            prepared = self._prepare(
                method, path, params=params, body=body, if_match=if_match, auth=auth
            )
            response = await self._send_prepared(prepared)
        return self._answer(response)

    async def _request_json(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        if_match: int | str | None,
        auth: bool,
    ) -> Json:
        answer = await self.request(
            method, path, params=params, body=body, if_match=if_match, auth=auth
        )
        return answer if isinstance(answer, dict) else {}

    async def _request_empty(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: Any,
        if_match: int | str | None,
    ) -> None:
        await self.request(method, path, params=params, body=body, if_match=if_match)

    def _json(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
        auth: bool = True,
    ) -> AsyncJson:
        return self._request_json(method, path, params, body, if_match, auth)

    def _empty(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        if_match: int | str | None = None,
    ) -> AsyncNone:
        return self._request_empty(method, path, params, body, if_match)

    # -- authentication ----------------------------------------------------------------------

    async def register(
        self, email: str, password: str, *, full_name: str = "", persona: str | None = None
    ) -> Json:
        body = _register_body(email, password, full_name, persona)
        tokens = await self._json("POST", "/auth/register", body=body, auth=False)
        self._store_tokens(tokens)
        return tokens

    async def login(self, email: str, password: str) -> Json:
        body = {"email": email, "password": password}
        tokens = await self._json("POST", "/auth/login", body=body, auth=False)
        self._store_tokens(tokens)
        return tokens

    async def refresh(self) -> Json:
        if self._refresh_token is None:
            raise ValueError("Not signed in: there is no refresh token to exchange.")
        async with self._lock:
            tokens = self._answer(await self._send_prepared(self._refresh_request()))
            self._store_tokens(tokens)
        return dict(tokens)

    async def logout(self) -> None:
        token = self._refresh_token
        self._clear_tokens()
        self._user = None
        if token is not None:
            await self._empty("POST", "/auth/logout", body={"refresh_token": token})

    async def me(self) -> Json:
        user = await self._json("GET", "/users/me")
        if self._api_key is None:
            self._user = user
        return user

    # -- runs --------------------------------------------------------------------------------

    async def stream_events(
        self, run_id: str | uuid.UUID, *, after: int | None = None
    ) -> AsyncIterator[Json]:
        """As `AgentPlatformClient.stream_events`, with `async for`."""
        path = f"/runs/{seg(run_id)}/events"
        timeout = httpx.Timeout(self._timeout, read=max(self._timeout, STREAM_READ_TIMEOUT))
        for attempt in range(2):
            prepared = self._prepare("GET", path, params={"after": after})
            prepared.headers["Accept"] = "text/event-stream"
            async with self._http.stream(
                "GET", prepared.url, params=prepared.params, headers=prepared.headers,
                timeout=timeout,
            ) as response:  # fmt: skip
                if response.status_code >= 400:
                    await response.aread()
                    if (
                        attempt == 0
                        and self._can_refresh(response, prepared)
                        and await self._refreshed_since(prepared.token)
                    ):
                        continue
                    raise error_from_response(response)
                parser = SSEParser()
                async for line in response.aiter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        yield event
                last = parser.flush()
                if last is not None:
                    yield last
                return

    async def wait(
        self, run_id: str | uuid.UUID, timeout: float = 120.0, *, interval: float = 0.25
    ) -> Json:
        deadline = time.monotonic() + timeout
        while True:
            run = await self.get_run(run_id)
            if run.get("status") in TERMINAL_STATUSES:
                return run
            if time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id} is still {run.get('status')} after {timeout}s")
            await asyncio.sleep(interval)
