"""The Dockerfile lints clean and builds a non-root, health-checked image (no Docker needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def runtime_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


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
