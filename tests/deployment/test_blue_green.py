"""deployment/blue_green.py against a fake `kubectl` on PATH and a fake app per colour.

The fake kubectl (fake_kubectl.py) records every call, renders what the script applies with the
real kubectl, and port-forwards to the fake app of the colour a Service selects, so the smoke
test (deployment/smoke_test.py, unchanged) really talks HTTP to the colour it is meant to test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.deployment.k8s_support import K8S, ROOT, kubectl

SCRIPT = ROOT / "deployment" / "blue_green.py"
PRODUCTION = K8S / "overlays" / "production"
OLD, NEW = "registry.example.com/agentplatform:1.0", "registry.example.com/agentplatform:1.1"
SMOKE_ENV = {"SMOKE_EMAIL": "smoke@example.com", "SMOKE_PASSWORD": "smoke-password-42"}


@dataclass
class FakeApp:
    """Answers the smoke test's calls; `good_runs` runs succeed, later ones fail."""

    colour: str
    ready: bool = True
    good_runs: int = 1_000
    runs: list[str] = field(default_factory=list)

    def answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/api/health":
            return 200, {"status": "ok", "version": self.colour}
        if path == "/api/ready":
            return (200 if self.ready else 503), {"checks": {"database": "ok"}}
        if path == "/api/auth/login":
            good = body == {
                "email": SMOKE_ENV["SMOKE_EMAIL"],
                "password": SMOKE_ENV["SMOKE_PASSWORD"],
            }
            return (200, {"access_token": "t"}) if good else (401, {"detail": "wrong password"})
        if path == "/api/users/me":
            return 200, {"email": SMOKE_ENV["SMOKE_EMAIL"]}
        if path.startswith("/api/agents"):
            return (201, {"id": "a1"}) if method == "POST" else (200, {"data": []})
        if path == "/api/runs":
            self.runs.append(body["input"])
            return 202, {"id": f"r{len(self.runs)}"}
        ok = len(self.runs) <= self.good_runs
        run = {"status": "succeeded", "output": "6 * 7 = 42"} if ok else {"status": "failed"}
        return 200, {**run, "error": None if ok else "provider unreachable"}


def serve(app: FakeApp) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = app.answer(self.command, self.path, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _reply

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class World:
    state_path: Path
    env: dict[str, str]
    apps: dict[str, FakeApp]

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.state_path.read_text())
        return state

    def change(self, **values: Any) -> None:
        self.state_path.write_text(json.dumps({**self.state(), **values}))

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--namespace", "agentplatform", "--timeout", "5", *args],
            env=self.env, capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip

    def deploy(self, image: str = NEW) -> subprocess.CompletedProcess[str]:
        return self.run("deploy", "--overlay", str(PRODUCTION), "--image", image)

    def verbs(self) -> list[str]:
        return [" ".join(call[:2]) for call in self.state()["calls"] if call[0] != "get"]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    apps = {colour: FakeApp(colour) for colour in ("blue", "green")}
    servers = {colour: serve(app) for colour, app in apps.items()}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(
        f"#!{sys.executable}\nimport runpy, sys\n"
        f"runpy.run_path({str(Path(__file__).parent / 'fake_kubectl.py')!r}, run_name='__main__')\n"
    )
    fake.chmod(0o755)
    state = tmp_path / "cluster.json"
    deployments = {
        name: {"image": OLD, "replicas": 2, "ready": 2}
        for name in ("agentplatform-app-blue", "agentplatform-app-green", "agentplatform-worker")
    }
    backends = {c: f"http://127.0.0.1:{s.server_address[1]}" for c, s in servers.items()}
    state.write_text(
        json.dumps(
            {
                "services": {"agentplatform": "blue", "agentplatform-preview": "green"},
                "deployments": deployments,
                "backends": backends,
                "calls": [],
                "applied": [],
            }
        )
    )
    env = {
        **os.environ,
        **SMOKE_ENV,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_KUBECTL_STATE": str(state),
        "REAL_KUBECTL": kubectl(),
        "SMOKE_RUN_TIMEOUT": "10",
    }
    yield World(state, env, apps)
    for server in servers.values():
        server.shutdown()
        server.server_close()


def test_a_good_release_rolls_the_idle_colour_switches_and_then_moves_the_workers(
    world: World,
) -> None:
    done = world.deploy()
    assert done.returncode == 0, done.stdout + done.stderr
    state = world.state()
    # The apply changed only the idle colour: live colour, its image and the workers kept.
    [applied] = state["applied"]
    assert applied["deployments"] == {
        "agentplatform-app-blue": OLD, "agentplatform-app-green": NEW, "agentplatform-worker": OLD,
    }  # fmt: skip
    assert applied["services"] == {"agentplatform": "blue", "agentplatform-preview": "green"}
    assert state["services"] == {"agentplatform": "green", "agentplatform-preview": "blue"}
    assert state["deployments"]["agentplatform-worker"]["image"] == NEW
    assert state["deployments"]["agentplatform-app-blue"]["image"] == OLD  # kept for a switch back
    verbs = world.verbs()
    assert (
        verbs.index("apply --kustomize")
        < verbs.index("rollout status")
        < verbs.index("patch service")
        < verbs.index("set image")
    )
    assert len(world.apps["green"].runs) == 2 and not world.apps["blue"].runs  # preview, live
    assert "done: green is live" in done.stdout


def test_a_colour_that_fails_once_live_is_switched_back(world: World) -> None:
    world.apps["green"].good_runs = 1  # passes through the preview, fails through the live Service
    done = world.deploy()
    assert done.returncode == 1
    assert "switched back to blue" in done.stdout
    state = world.state()
    assert state["services"] == {"agentplatform": "blue", "agentplatform-preview": "green"}
    patches = [c for c in state["calls"] if c[0] == "patch" and c[2] == "agentplatform"]
    colours = [json.loads(c[c.index("--patch") + 1])["spec"]["selector"]["colour"] for c in patches]
    assert colours == ["green", "blue"]
    assert state["deployments"]["agentplatform-worker"]["image"] == OLD  # workers never moved


def test_a_colour_that_is_not_ready_is_never_switched_to(world: World) -> None:
    world.change(ready_after_apply={"agentplatform-app-green": 1})
    done = world.deploy()
    assert done.returncode == 1
    assert "refusing to switch to green" in done.stdout and "1/2 pods ready" in done.stdout
    assert world.state()["services"]["agentplatform"] == "blue"
    assert "patch service" not in world.verbs() and "set image" not in world.verbs()
    assert not world.apps["green"].runs  # not even smoke-tested


def test_a_rollout_that_times_out_is_never_switched_to(world: World) -> None:
    world.change(rollout_fails=["agentplatform-app-green"])
    done = world.deploy()
    assert done.returncode == 1 and "refusing to switch to green" in done.stdout
    assert "patch service" not in world.verbs()


def test_a_colour_failing_its_preview_smoke_test_keeps_traffic_where_it_is(world: World) -> None:
    world.apps["green"].ready = False
    done = world.deploy()
    assert done.returncode == 1
    assert "/api/ready: 503" in done.stdout and "traffic stays on blue" in done.stdout
    assert "patch service" not in world.verbs()


def test_workers_that_do_not_start_roll_back_with_traffic(world: World) -> None:
    world.change(rollout_fails=["agentplatform-worker"])
    done = world.deploy()
    assert done.returncode == 1 and "rolled back to blue" in done.stdout
    state = world.state()
    assert state["services"]["agentplatform"] == "blue"
    assert state["deployments"]["agentplatform-worker"]["image"] == OLD
    assert "rollout undo" in world.verbs()


def test_switch_moves_traffic_back_to_the_other_colour_after_the_same_checks(world: World) -> None:
    assert world.deploy().returncode == 0
    done = world.run("switch")
    assert done.returncode == 0, done.stdout
    assert world.state()["services"]["agentplatform"] == "blue"
    assert len(world.apps["blue"].runs) == 2
    assert "live: blue" in done.stdout


def test_the_release_renders_from_the_production_overlay(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    from blue_green import release_kustomization

    directory = tmp_path / "release"
    directory.mkdir()
    images = {"agentplatform-app-green": NEW, "agentplatform-app-blue": OLD}
    release_kustomization(PRODUCTION, directory, images, "blue")
    rendered = subprocess.run(
        [kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=True
    ).stdout
    assert rendered.count(f"image: {NEW}") == 2 and rendered.count(f"image: {OLD}") == 2


def test_the_first_install_puts_everything_on_the_image_with_blue_live(world: World) -> None:
    world.change(services={})
    done = world.deploy()
    assert done.returncode == 0, done.stdout + done.stderr
    state = world.state()
    assert set(state["applied"][0]["deployments"].values()) == {NEW}
    assert state["services"] == {"agentplatform": "blue", "agentplatform-preview": "green"}
    assert len(world.apps["blue"].runs) == 1


def test_staging_rolls_one_colour_and_the_workers_then_smoke_tests(world: World) -> None:
    staging = str(K8S / "overlays" / "staging")
    done = world.run("apply", "--overlay", staging, "--image", NEW)
    assert done.returncode == 0, done.stdout + done.stderr
    state = world.state()
    assert state["applied"][0]["deployments"] == {
        "agentplatform-app-blue": NEW, "agentplatform-worker": NEW,
    }  # fmt: skip
    assert [c[2] for c in state["calls"] if c[:2] == ["rollout", "status"]] == [
        "deployment/agentplatform-app-blue", "deployment/agentplatform-worker",
    ]  # fmt: skip
    assert len(world.apps["blue"].runs) == 1
    world.apps["blue"].ready = False
    failed = world.run("apply", "--overlay", staging, "--image", NEW)
    assert failed.returncode == 1 and "failed its smoke test" in failed.stdout
