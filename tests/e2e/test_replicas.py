"""Two app processes on one Redis serve one user: the UI session moves from one to the other.

With `REDIS_URL` set, rxconfig.py points Reflex's state manager at it (`REFLEX_REDIS_URL`), so
the in-memory UI state of a browser tab lives in Redis, not in one process. This test proves it
end to end with real processes, a real Redis, a real PostgreSQL and a real browser:

- replica A and replica B are two app processes started by the container's entrypoint
  (`deployment/entrypoint.sh`: wait for the database, migrate, serve; one worker each)
  sharing a fresh PostgreSQL database, the data directory, `SECRET_KEY` and Redis;
- the browser only talks to a small TCP proxy in this file, which sends every new connection
  to the current replica (both builds bake the proxy's URL into the frontend);
- on A: sign in as the demo owner, open the dashboard and pick the 30-day period, a value
  that only exists in Reflex state (it is in Redis, under the tab's client token);
- the proxy then drops every connection to A (a load balancer taking A out), A is stopped,
  and new connections go to B: the page's websocket reconnects on its own;
- on B: the hydrate snapshot B sends carries the period chosen on A, the page still shows
  the signed-in owner and "30d", client-side navigation and a new event work (the new value
  lands in Redis), and a full reload is served by B with the state intact.

Not claimed here: a replica that dies without closing its sockets (SIGKILL, OOM) leaves the
tab's `token_manager_socket_record_<token>` in Redis (for `redis_token_expiration`, an hour),
so Reflex takes the reconnecting tab for a duplicate and hands it a new token: the user stays
signed in (the session is an HttpOnly cookie) but the UI state starts over.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from playwright.sync_api import Page, WebSocket, expect

from tests.e2e.conftest import ROOT, _wait_healthy, free_port, screenshot
from tests.services import REDIS_URL, scratch_postgres_database
from tests.services.redis_support import redis_namespace

pytestmark = [pytest.mark.rebuilds_frontend, pytest.mark.postgres]

TIMEOUT = 60_000  # ms: a hang guard for a slow, busy machine, not a performance claim
HANG_S = 120.0
# Reflex keeps each state class of a tab under `<client token>_<state's full name>`.
DASHBOARD_STATE = (
    "reflex___state____state.agentplatform___ui___state___session____session_state"
    ".agentplatform___ui___state___dashboard____dashboard_state"
)
# A state update from the backend: `42/_event,["event",{"delta":{<state>:{<var>:…}}}]`.
EVENT_PACKET = re.compile(r"42/_event,(\[.*)", re.DOTALL)
# HTTP/1.1 request lines in what the browser sends (websocket upgrades included).
REQUEST_LINE = re.compile(
    rb"(?:^|\r\n)((?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) \S+ HTTP/1\.1)\r\n"
)


# --- the proxy ------------------------------------------------------------------------------


class SwitchingProxy:
    """A TCP proxy on 127.0.0.1: each new connection goes to the replica chosen at that time.

    `hold()` parks new connections until `route_to()` names a replica; `drop_all()` closes
    every open connection at once, as a load balancer does when a replica leaves. Every HTTP
    request line (websocket upgrades included) is noted with the replica that got it.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests: list[tuple[int, str]] = []
        self._backend = 0
        self._open = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def route_to(self, backend: int) -> None:
        with self._lock:
            self._backend = backend
        self._open.set()

    def hold(self) -> None:
        self._open.clear()

    def drop_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self._open.set()  # parked connections see `_closed` and go away
        self.drop_all()

    def mark(self) -> int:
        with self._lock:
            return len(self.requests)

    def served(self, backend: int, since: int = 0) -> list[str]:
        """The request lines sent to `backend` (from request number `since` on)."""
        with self._lock:
            return [line for port, line in self.requests[since:] if port == backend]

    def tokens(self) -> set[str]:
        """The Reflex client tokens of every websocket that went through."""
        with self._lock:
            targets = [line.split()[1] for _, line in self.requests]
        found: set[str] = set()
        for target in targets:
            if target.startswith("/_event"):
                found.update(parse_qs(urlsplit(target).query).get("token", []))
        return found

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if not self._open.wait(HANG_S) or self._closed:
            client.close()
            return
        with self._lock:
            backend = self._backend
            self._sockets.add(client)
        try:
            upstream = socket.create_connection(("127.0.0.1", backend), timeout=10)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets.add(upstream)
        threading.Thread(target=self._pump, args=(upstream, client, None), daemon=True).start()
        self._pump(client, upstream, backend)

    def _pump(self, source: socket.socket, sink: socket.socket, backend: int | None) -> None:
        """Copy bytes one way; on the browser's side, note request lines until an upgrade."""
        try:
            while chunk := source.recv(65536):
                if backend is not None:
                    lines = [m.decode("latin-1") for m in REQUEST_LINE.findall(chunk)]
                    with self._lock:
                        self.requests.extend((backend, line) for line in lines)
                    if b"upgrade: websocket" in chunk.lower():
                        backend = None  # websocket frames from here on
                sink.sendall(chunk)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# --- the replicas ---------------------------------------------------------------------------


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    states_dir: Path
    stopped: bool = False

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def tail(self) -> str:
        return f"--- {self.name} ({self.log})\n{self.log.read_text(errors='replace')[-3000:]}"

    def stop(self) -> None:
        """SIGTERM to the whole process group; SIGKILL if it lingers; until the port is free."""
        if self.stopped:
            return
        self.stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # any straggler in the group
        _until(lambda: not _accepts(self.port), f"{self.name}'s port to close")


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _until(condition: Callable[[], object], what: str, timeout: float = HANG_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _start(name: str, env: dict[str, str], work: Path) -> Replica:
    port = free_port()
    log = work / f"serve-{name}.log"
    # Without Redis, Reflex keeps state in files (`.states/` of the checkout, shared by both):
    # each replica gets its own directory, so only Redis can carry the state across.
    states_dir = work / f"states-{name}"
    env = {**env, "PORT": str(port), "REFLEX_STATES_WORKDIR": str(states_dir)}
    # The container's entrypoint (wait for the database, migrate, seed once, serve), run here
    # outside a container with this virtualenv's `agentplatform` first on PATH.
    bin_dir = str(Path(sys.executable).parent)
    env = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["bash", str(ROOT / "deployment" / "entrypoint.sh")],
            cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    replica = Replica(name, port, process, log, states_dir)
    try:
        _wait_healthy(replica.url, process, log)
    except BaseException:
        replica.stop()
        raise
    return replica


def _delete_reflex_keys(client: redis.Redis, tokens: set[str]) -> None:
    """Reflex's own keys are not under REDIS_PREFIX: `<token>_<state>`, `<token>_lock` and
    `token_manager_socket_record_<token>`. Delete those of the tokens this test used."""
    for token in filter(None, tokens):
        keys = [*client.scan_iter(match=f"{token}*"), f"token_manager_socket_record_{token}"]
        client.delete(*keys)


def _leave(page: Page, tokens: set[str]) -> None:
    with contextlib.suppress(Exception):
        tokens.add(page.evaluate("() => window.sessionStorage.getItem('token') || ''"))
    page.goto("about:blank")


@dataclass
class Cluster:
    proxy: SwitchingProxy
    a: Replica
    b: Replica
    redis: redis.Redis
    demo_email: str
    demo_password: str

    @property
    def url(self) -> str:
        return f"http://localhost:{self.proxy.port}"

    def tails(self) -> str:
        return f"{self.a.tail()}\n{self.b.tail()}"


@pytest.fixture
def cluster(tmp_path: Path, page: Page) -> Iterator[Cluster]:
    """Replicas A and B behind the proxy (routing to A), on one database and one Redis."""
    with contextlib.ExitStack() as cleanup:  # undone in reverse order
        client = redis.Redis.from_url(REDIS_URL)
        cleanup.callback(client.close)
        prefix = cleanup.enter_context(redis_namespace())
        database_url = cleanup.enter_context(scratch_postgres_database("replicas"))
        proxy = SwitchingProxy()
        cleanup.callback(proxy.close)
        # After both replicas are gone (nothing writes state any more): every token seen on
        # the wire, and the page's last one (a token handed out by `new_token` is not).
        tokens: set[str] = set()
        cleanup.callback(lambda: _delete_reflex_keys(client, tokens | proxy.tokens()))
        env = {
            **os.environ,
            "DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": database_url,
            "SECRET_KEY": f"replicas-{uuid.uuid4().hex}{uuid.uuid4().hex}",
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": prefix,
            "GRANIAN_WORKERS": "1",
            "LOG_FORMAT": "console",
            # The build bakes the websocket URL into the frontend: the proxy's, for both.
            "REFLEX_API_URL": f"http://localhost:{proxy.port}",
        }
        env.pop("REFLEX_REDIS_URL", None)  # rxconfig.py must derive it from REDIS_URL
        # A first (it migrates and seeds), then B on the same database (nothing to seed).
        a = _start("a", env, tmp_path)
        cleanup.callback(a.stop)
        b = _start("b", env, tmp_path)
        cleanup.callback(b.stop)
        # First of all, take the page off the app (its socket would keep reconnecting).
        cleanup.callback(_leave, page, tokens)
        text = a.log.read_text()
        email = re.search(r"email:\s+(\S+)", text)
        password = re.search(r"password:\s+(\S+)", text)
        assert email and password, f"A's first start prints the demo owner:\n{a.tail()}"
        assert "Demo owner account created" not in b.log.read_text(), b.tail()
        proxy.route_to(a.port)
        yield Cluster(proxy, a, b, client, email.group(1), password.group(1))


# --- the test -------------------------------------------------------------------------------


@dataclass
class Frames:
    """Every text frame the page receives, with the websocket it came on."""

    sockets: list[WebSocket]
    received: list[tuple[WebSocket, str]]

    @classmethod
    def watch(cls, page: Page) -> Frames:
        frames = cls([], [])

        def on_socket(ws: WebSocket) -> None:
            frames.sockets.append(ws)
            ws.on("framereceived", lambda payload: frames.received.append((ws, str(payload))))

        page.on("websocket", on_socket)
        return frames

    def periods(self, excluding: list[WebSocket]) -> list[str]:
        """The dashboard periods in the state updates of sockets not in `excluding`, in order."""
        found = []
        for ws, payload in self.received:
            if ws in excluding or not (packet := EVENT_PACKET.match(payload)):
                continue
            name, *args = json.loads(packet.group(1))
            if name != "event" or not args or not isinstance(args[0], dict):
                continue  # e.g. ["new_token", "<token>"]
            delta = args[0].get("delta", {})
            if "period_rx_state_" in (dashboard := delta.get(DASHBOARD_STATE, {})):
                found.append(dashboard["period_rx_state_"])
        return found


def _pump_until(page: Page, condition: Callable[[], object], what: str) -> None:
    """Let Playwright deliver its events (websocket frames) until `condition` holds."""
    deadline = time.monotonic() + HANG_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(100)


def _state_in_redis(cluster: Cluster, token: str) -> bytes:
    return cluster.redis.get(f"{token}_{DASHBOARD_STATE}") or b""


def test_ui_session_survives_moving_to_another_replica(cluster: Cluster, page: Page) -> None:
    frames = Frames.watch(page)
    url, proxy, a, b = cluster.url, cluster.proxy, cluster.a, cluster.b

    # On replica A: sign in and choose a period that only exists in Reflex state.
    page.goto(f"{url}/login")
    page.get_by_label("Email").fill(cluster.demo_email)
    page.get_by_label("Password").fill(cluster.demo_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda u: "/login" not in u, timeout=TIMEOUT)
    if "/onboarding" in page.url:
        page.get_by_role("button", name="Skip for now").click()
        page.wait_for_url(lambda u: "/onboarding" not in u, timeout=TIMEOUT)
    page.goto(f"{url}/dashboard")
    expect(page.get_by_text("No runs yet")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("radio", name="7d")).to_be_checked()
    page.get_by_role("radio", name="30d").click()
    expect(page.get_by_role("radio", name="30d")).to_be_checked(timeout=TIMEOUT)

    token = page.evaluate("() => window.sessionStorage.getItem('token')")
    assert token, "Reflex keeps the tab's client token in sessionStorage"
    # The state is in Redis under the tab's token: rxconfig.py did wire REFLEX_REDIS_URL.
    _until(lambda: b"30d" in _state_in_redis(cluster, token), "the 30d period in Redis")
    record = f"token_manager_socket_record_{token}"
    assert cluster.redis.exists(record), "A noted the tab's socket in Redis"
    assert any(line.startswith("GET /_event") for line in proxy.served(a.port))
    assert not proxy.served(b.port), "B has served nothing yet"

    # A leaves: the proxy drops every connection to it, A is stopped, new ones go to B.
    proxy.hold()
    switched_at, old_sockets = proxy.mark(), list(frames.sockets)
    proxy.drop_all()
    # A releases the tab's socket record when the socket closes (as on a graceful shutdown);
    # a record left behind would make B treat the tab as a duplicate and give it a new token.
    _until(lambda: not cluster.redis.exists(record), "A to release the tab's socket record")
    a.stop()
    assert a.process.poll() is not None and not _accepts(a.port)
    proxy.route_to(b.port)

    # The page reconnects through the proxy to B, whose hydrate snapshot comes from Redis.
    _pump_until(page, lambda: frames.periods(old_sockets), "B's hydrate on the new websocket")
    assert frames.periods(old_sockets)[0] == "30d", frames.periods(old_sockets)
    on_b = proxy.served(b.port, since=switched_at)
    assert any(line.startswith("GET /_event") for line in on_b), on_b
    assert not proxy.served(a.port, since=switched_at)
    assert page.evaluate("() => window.sessionStorage.getItem('token')") == token

    # Still signed in and still on 30d, without a page load.
    expect(page).to_have_url(f"{url}/dashboard")
    expect(page.get_by_role("radio", name="30d")).to_be_checked(timeout=TIMEOUT)
    expect(page.get_by_text("No runs yet")).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Account menu").click()
    expect(page.get_by_role("menu")).to_contain_text(cluster.demo_email, timeout=TIMEOUT)
    page.keyboard.press("Escape")

    # New events on B: away and back (the pages' on_load handlers run there), then 24h.
    page.get_by_role("link", name="Agents", exact=True).click()
    expect(page).to_have_url(f"{url}/agents", timeout=TIMEOUT)
    page.get_by_role("link", name="Dashboard", exact=True).click()
    expect(page).to_have_url(f"{url}/dashboard", timeout=TIMEOUT)
    expect(page.get_by_role("radio", name="30d")).to_be_checked(timeout=TIMEOUT)
    page.get_by_role("radio", name="24h").click()
    expect(page.get_by_role("radio", name="24h")).to_be_checked(timeout=TIMEOUT)
    _until(lambda: b"24h" in _state_in_redis(cluster, token), "the 24h period in Redis")

    # A full reload: the page and a new websocket, both from B; the state is still there.
    page.reload()
    expect(page.get_by_text("No runs yet")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("radio", name="24h")).to_be_checked(timeout=TIMEOUT)
    on_b = proxy.served(b.port, since=switched_at)
    assert "GET /dashboard HTTP/1.1" in on_b, on_b
    assert sum(line.startswith("GET /_event") for line in on_b) >= 2, on_b
    screenshot(page, "replicas-after-failover")
    assert b.process.poll() is None, cluster.tails()
    # Nothing went through Reflex's file-based state manager on either replica.
    assert not [*a.states_dir.glob("**/*.pkl"), *b.states_dir.glob("**/*.pkl")]
