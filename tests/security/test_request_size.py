"""One request-size limit for every request: over REQUEST_MAX_BYTES is a 413 before the body is
parsed or buffered (a declared Content-Length at once, a stream as it passes the limit)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.types import Message, Receive, Scope, Send

from agentplatform.api.app import build_api
from agentplatform.core.config import get_settings
from tests import factories
from tests.api.test_input_validation import assert_error
from tests.services.run_support import isolated_runs

MB = 1024 * 1024
CHUNK = 64 * 1024


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


class Upload:
    """An ASGI `receive` feeding `total` bytes in chunks, counting what the app pulled."""

    def __init__(self, total: int, chunk: int = CHUNK) -> None:
        self.left = total
        self.chunk = chunk
        self.pulled = 0

    async def __call__(self) -> Message:
        size = min(self.chunk, self.left)
        self.left -= size
        self.pulled += size
        return {"type": "http.request", "body": b"x" * size, "more_body": self.left > 0}


async def call(
    app: Any, path: str, upload: Upload, headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, Any]]:
    """One POST straight into the ASGI app; its status and JSON body."""
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 40000), "server": ("testserver", 80),
    }  # fmt: skip
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    receive: Receive = upload
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


JSON = (b"content-type", b"application/json")


async def test_a_declared_50_mb_login_is_refused_without_reading_a_byte() -> None:
    """The unauthenticated sign-in never parses (or even reads) an oversized body."""
    upload = Upload(50 * MB)
    length = (b"content-length", str(50 * MB).encode())
    status, body = await call(build_api(), "/api/auth/login", upload, [JSON, length])
    assert status == 413
    assert body["error"]["code"] == "payload_too_large"
    assert "1 MB" in body["error"]["message"] and "REQUEST_MAX_BYTES" in body["error"]["message"]
    assert body["error"]["details"] == {"limit_bytes": MB}
    assert upload.pulled == 0


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/auth/register", "/api/runs"])
async def test_a_streamed_body_without_length_stops_at_the_limit(path: str) -> None:
    """Chunked: counted as it arrives; refused once past the limit, the rest never read."""
    upload = Upload(50 * MB)
    status, body = await call(build_api(), path, upload, [JSON])
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert MB < upload.pulled <= MB + CHUNK


async def test_ten_mb_of_run_variables_are_not_stored(api: httpx.AsyncClient) -> None:
    owner = await factories.make_user()
    agent = await api.post("/api/agents", headers=owner.headers, json={"name": "a"})
    variables = {f"v{i}": "x" * 20_000 for i in range(500)}  # 10 MB
    body = {"agent_id": agent.json()["id"], "input": "hi", "variables": variables}
    response = await api.post("/api/runs", headers=owner.headers, json=body)
    assert_error(response, 413)
    assert (await api.get("/api/runs", headers=owner.headers)).json()["count"] == 0


async def test_the_limit_comes_from_the_setting_and_holds_for_every_route(
    api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = await factories.make_user()
    monkeypatch.setattr(get_settings(), "request_max_bytes", 4096)
    small = await api.post("/api/agents", headers=owner.headers, json={"name": "fits"})
    assert small.status_code == 201
    big = {"name": "big", "instructions": "x" * 5000}
    for method, path in [("POST", "/api/agents"), ("PATCH", f"/api/agents/{small.json()['id']}"),
                         ("POST", "/api/prompts"), ("PUT", "/api/prices/m"),
                         ("POST", "/api/no-such-route"), ("GET", "/api/health")]:  # fmt: skip
        response = await api.request(method, path, headers=owner.headers, json=big)
        error = assert_error(response, 413)
        assert "4 KB" in error["message"], error
    stored = await api.get(f"/api/agents/{small.json()['id']}", headers=owner.headers)
    assert stored.json()["instructions"] == ""


async def test_a_mounted_app_reading_its_own_stream_is_bounded_too() -> None:
    """The UI (Reflex) is mounted inside the API app: its requests pass the same limit."""
    app = build_api()
    pulled: list[int] = []

    async def raw_reader(scope: Scope, receive: Receive, send: Send) -> None:
        total = 0
        while True:
            message = await receive()
            total += len(message.get("body", b""))
            pulled.append(total)
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read"})

    app.mount("/ui", raw_reader)
    status, body = await call(app, "/ui/_upload", Upload(5 * MB), [])
    assert status == 413 and body["error"]["code"] == "payload_too_large"
    assert max(pulled) <= MB


async def test_a_content_length_that_is_not_a_number_is_a_400() -> None:
    status, body = await call(
        build_api(), "/api/auth/login", Upload(10), [JSON, (b"content-length", b"ten")]
    )
    assert status == 400 and body["error"]["code"] == "bad_request"


@contextmanager
def served_api() -> Iterator[int]:
    """The API on a real socket (uvicorn in a thread); yields its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(build_api(), log_config=None, access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API did not start"
        time.sleep(0.01)
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(5)


def _exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, read the answer until the server closes or 5 s pass."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                break
    return answer


def test_over_real_http_a_huge_declared_body_is_answered_before_it_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with served_api() as port:
        head = (
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 52428800\r\n\r\n"
        )
        answer = _exchange(port, head)  # not one byte of the 50 MB is sent
        assert answer.startswith(b"HTTP/1.1 413 ")
        assert b"payload_too_large" in answer and b"connection: close" in answer.lower()
        monkeypatch.setattr(get_settings(), "request_max_bytes", 4096)
        chunk = b"x" * 2048
        stream = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(8)) + b"0\r\n\r\n"
        head = (
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        assert _exchange(port, head + stream).startswith(b"HTTP/1.1 413 ")
        health = _exchange(
            port, b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert health.startswith(b"HTTP/1.1 200 ")
