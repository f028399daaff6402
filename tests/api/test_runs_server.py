"""The API on real sockets: live SSE from a served app, and a served process killed mid-run.

Served processes share the test database, so test data made here is what they serve.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import pytest

from tests.factories import auth_headers
from tests.fakes.fake_openai import FakeLLMServer, Reply
from tests.services.run_support import isolated_runs, make_agent, make_provider, owner

ROOT = Path(__file__).resolve().parents[2]
LEASE_S = 2


@pytest.fixture(autouse=True)
async def _isolated() -> AsyncIterator[None]:
    async with isolated_runs():
        yield


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_api(port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`uvicorn --factory agentplatform.api.app:build_api` with a short run lease."""
    env = {
        **os.environ,
        "RUN_LEASE_SECONDS": str(LEASE_S),
        "RUN_HEARTBEAT_SECONDS": "0.5",
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "agentplatform.api.app:build_api",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited early:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the API did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


async def poll(client: httpx.AsyncClient, url: str, done, timeout: float = 15):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        body = (await client.get(url)).json()
        if done(body):
            return body
        assert time.monotonic() < deadline, f"gave up waiting on {url}: {body}"
        await asyncio.sleep(0.05)


async def agent_on(fake: FakeLLMServer) -> tuple[dict[str, str], uuid.UUID]:
    user, _ = await owner()
    provider = await make_provider(user.workspace_id, fake.url)
    agent = await make_agent(
        user.workspace_id, "remote", provider_id=provider, tools=["calculator"]
    )
    return auth_headers(user), agent


@asynccontextmanager
async def api_in_this_loop() -> AsyncIterator[str]:
    """The API on a real socket, served by uvicorn inside the test's event loop, with its
    lifespan (which starts the run dispatcher)."""
    import uvicorn

    from agentplatform.api.app import build_api

    port = free_port()
    config = uvicorn.Config(
        build_api(), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done(), "uvicorn did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def test_sse_streams_steps_live_over_a_socket(fake_openai: FakeLLMServer) -> None:
    headers, agent = await agent_on(fake_openai)
    fake_openai.tool_calls(("calculator", {"expression": "6 * 7"}))
    fake_openai.delay(0.5, then=Reply(text="It is 42.", chunk_delay_s=0.05))
    events: list[str] = []
    status_at_first_step = None
    async with (
        api_in_this_loop() as base,
        httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client,
    ):
        created = await client.post("/api/runs", json={"agent_id": str(agent), "input": "6*7?"})
        run_id = created.json()["id"]
        async with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            async for line in stream.aiter_lines():
                if not line.startswith("event: "):
                    continue
                events.append(line[7:])
                if status_at_first_step is None:
                    status_at_first_step = (await client.get(f"/api/runs/{run_id}")).json()[
                        "status"
                    ]
    assert status_at_first_step == "running"  # steps arrive while the run is still going
    assert [e for e in events if e != "delta"] == ["step", "step", "step", "status"]
    assert "delta" in events  # the final answer's text streamed live


async def test_a_killed_process_leaves_a_readable_trace_and_a_failed_run(
    fake_openai: FakeLLMServer, tmp_path: Path
) -> None:
    headers, agent = await agent_on(fake_openai)
    fake_openai.tool_calls(("calculator", {"expression": "1 + 1"}))
    fake_openai.delay(60)  # the second model call never answers in time
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "api.log"
    with served_api(port, log) as process:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            created = await client.post("/api/runs", json={"agent_id": str(agent), "input": "1+1"})
            run_id = created.json()["id"]
            await poll(client, f"/api/runs/{run_id}/steps", lambda b: b["count"] >= 2)
        process.kill()  # SIGKILL: no cleanup, the lease is simply not renewed any more
        process.wait(5)
    with served_api(port, log):
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
            run = await poll(
                client, f"/api/runs/{run_id}", lambda b: b["status"] != "running", LEASE_S * 5
            )
            trace = (await client.get(f"/api/runs/{run_id}/steps")).json()["data"]
    assert run["status"] == "failed"
    assert "interrupted" in run["error"]
    assert [s["kind"] for s in trace] == ["tool_call", "tool_result", "error"]
    assert trace[0]["tool_args"] == {"expression": "1 + 1"} and trace[1]["content"] == "2"
    assert "interrupted" in trace[-1]["content"]
