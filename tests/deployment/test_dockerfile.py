"""The Dockerfile lints clean and describes a non-root, health-checked image from the lock.

What it builds is proven elsewhere: tests/e2e/test_image_rehearsal.py lays out its COPY lines
and starts them; tests/deployment/test_image_podman.py builds and runs the image itself."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.deployment.dockerfile_support import ROOT, stage

BIN = Path(sys.executable).parent


def runtime_stage() -> list[tuple[str, str]]:
    return stage("runtime").steps


def test_hadolint_passes() -> None:
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "Dockerfile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"hadolint found problems:\n{done.stdout}{done.stderr}"


def test_runtime_stage_runs_as_a_non_root_user() -> None:
    users = [args for keyword, args in runtime_stage() if keyword == "USER"]
    assert users, "the runtime stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_healthcheck_probes_readiness() -> None:
    checks = [args for keyword, args in runtime_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/api/ready" in checks[0]


def test_entrypoint_is_the_deployment_script_under_an_init() -> None:
    entrypoints = [args for keyword, args in runtime_stage() if keyword == "ENTRYPOINT"]
    command = json.loads(entrypoints[-1])
    assert command[-1] == "/app/deployment/entrypoint.sh"
    assert command[0] == "tini", "an init forwards SIGTERM so `docker stop` is clean"
    copies = " ".join(args for keyword, args in runtime_stage() if keyword == "COPY")
    for script in ("entrypoint.sh", "backup.sh", "restore.sh"):
        assert f"deployment/{script}" in copies
        assert (ROOT / "deployment" / script).stat().st_mode & 0o111, f"{script} is executable"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    ignored = {
        line.strip().rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".env", "data", ".venv", ".git"} <= ignored
    assert "!.env.example" in ignored, ".env.example stays available as documentation"


def test_dependencies_come_from_the_lock_and_the_code_is_not_the_apps_to_change() -> None:
    build = stage("build")
    syncs = [args for args in build.all("RUN") if "uv sync" in args]
    assert syncs and all("--locked" in args for args in syncs), "installs come from uv.lock"
    copied = [source for copy in build.copies() for source in copy.sources]
    assert "uv.lock" in copied
    runtime = stage("runtime")
    assert all("--chown" not in args for args in runtime.all("COPY")), (
        "the code and the built frontend stay root-owned: the app user can only read them"
    )
    assert runtime.env()["APP_DIR"] == "/app" and runtime.env()["DATA_DIR"] == "/data"
