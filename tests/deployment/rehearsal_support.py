"""The image rehearsed without a container engine: the Dockerfile's layout, under a prefix.

The Dockerfile is read, not copied: its build stage's COPY lines assemble the build context,
its two build commands (the locked `uv sync` that builds and installs the wheel, and
`agentplatform build-frontend`) run with their own flags and environment, and its runtime
stage's COPY lines lay out the result. Every absolute path of the image (`/opt/venv`, `/app`,
`/data`) lives under one temporary prefix; the code and the frontend are then made read-only,
and the app runs from there as an unprivileged user, as the image's `USER` does.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.deployment.dockerfile_support import ROOT, stage

NOBODY = 65534
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "external")


@dataclass(frozen=True)
class Layout:
    prefix: Path  # stands for the image's `/`
    port: int
    python: str

    def path(self, absolute: str) -> Path:
        return self.prefix / absolute.lstrip("/")

    @property
    def bin(self) -> Path:
        return self.path("/opt/venv/bin")

    def runtime_env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        """The runtime stage's ENV with the image's paths under the prefix."""
        keep = {"PATH", "LANG", "LC_ALL", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"}
        env = {name: value for name, value in os.environ.items() if name in keep}
        for name, value in stage("runtime").env().items():
            env[name] = value
        env.update(
            PATH=f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
            DATA_DIR=str(data_dir),
            APP_DIR=str(self.path(env["APP_DIR"])),
            PORT=str(self.port),
            HOME=str(data_dir),
            **extra,
        )
        return env


def app_user_python() -> str:
    """A Python >= 3.11 that the unprivileged user can run (this one may sit under /root)."""
    candidates = [
        sys.executable,
        "/usr/bin/python3.11",
        "/usr/bin/python3",
        "/usr/local/bin/python3",
    ]
    for candidate in candidates:
        real = Path(candidate).resolve()
        if not real.is_file():
            continue
        if os.geteuid() == 0 and not all(p.stat().st_mode & stat.S_IXOTH for p in real.parents):
            continue
        done = subprocess.run(
            [str(real), "-c", "import sys, venv; print(sys.version_info >= (3, 11))"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.stdout.strip() == "True":
            return str(real)
    raise RuntimeError(
        "the rehearsal needs a Python >= 3.11 with venv that an unprivileged user can run "
        "(e.g. Debian's python3.11 in /usr/bin)"
    )


def as_app_user(command: list[str]) -> list[str]:
    """The command as the image's unprivileged user would run it (nobody, when we are root)."""
    if os.geteuid() != 0:
        return command
    ids = [f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    return ["setpriv", *ids, "--", *command]


def app_user_dir(path: Path) -> Path:
    """A directory the unprivileged user may write (the image's /data volume)."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, NOBODY, NOBODY)
    return path


def _uv() -> str:
    found = Path(sys.executable).parent.parent / ".uv" / "bin" / "uv"
    if found.is_file():
        return str(found)
    if which := shutil.which("uv"):
        return which
    raise RuntimeError("uv is not installed: run `make test` (it installs the pinned uv)")


def _copy_context(source_names: list[str], destination: Path) -> None:
    into_directory = len(source_names) > 1 or str(destination).endswith("/")
    for name in source_names:
        source = ROOT / name
        target = destination / source.name if into_directory else destination
        if source.is_dir():
            shutil.copytree(source, target, ignore=IGNORED, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _destination(layout: Layout, workdir: str, destination: str) -> Path:
    absolute = destination if destination.startswith("/") else f"{workdir}/{destination}"
    path = layout.path(os.path.normpath(absolute))
    return Path(f"{path}/") if destination.endswith("/") or destination in {".", "./"} else path


def _run_line(keyword: str) -> list[list[str]]:
    """The build stage's RUN line that mentions `keyword`, as its `&&`-joined commands."""
    runs = [args for args in stage("build").all("RUN") if keyword in args]
    assert len(runs) == 1, f"the build stage has one RUN with {keyword!r}: {runs}"
    return [shlex.split(part) for part in runs[0].split("&&")]


def _remove_as_the_build_does(layout: Layout, command: list[str]) -> None:
    """`rm -rf /image/paths...` of a RUN line, each path mapped under the prefix."""
    assert command[:2] == ["rm", "-rf"], f"the rehearsal knows how to run rm -rf only: {command}"
    for absolute in command[2:]:
        target = layout.path(absolute)
        assert target.resolve().is_relative_to(layout.prefix.resolve()), target
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)


def build(prefix: Path, port: int) -> Layout:
    """Assemble, install and build what the Dockerfile's build stage does; lay out the runtime."""
    layout = Layout(prefix, port, app_user_python())
    prefix.chmod(0o755)
    build_stage = stage("build")
    workdir = build_stage.workdir()
    for copy in build_stage.copies():
        assert copy.from_stage is None, "the build stage copies only from the context"
        target = _destination(layout, workdir, copy.destination)
        target.mkdir(parents=True, exist_ok=True) if str(target).endswith("/") else None
        _copy_context(copy.sources, target)

    build_env = build_stage.env()
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_PROGRESS": "1"}
    env["UV_PROJECT_ENVIRONMENT"] = str(layout.path(build_env["UV_PROJECT_ENVIRONMENT"]))
    (sync_line,) = _run_line("--no-editable")
    sync = [_uv(), *sync_line[1:], "--python", layout.python]
    subprocess.run(sync, cwd=layout.path(workdir), env=env, check=True, capture_output=True)

    words, *afterwards = _run_line("agentplatform build-frontend")
    assignments = dict(word.split("=", 1) for word in words if "=" in word)
    command = [word for word in words if "=" not in word]
    frontend_env = {**os.environ, "PATH": f"{layout.bin}{os.pathsep}{os.environ['PATH']}"}
    for name, value in assignments.items():
        frontend_env[name] = str(layout.path(value)) if value.startswith("/") else value
    frontend_env["PORT"] = str(port)
    with tempfile.TemporaryDirectory() as elsewhere:  # any working directory will do
        done = subprocess.run(
            [str(layout.bin / command[0]), *command[1:]],
            cwd=elsewhere,
            env=frontend_env,
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 0, f"build-frontend failed:\n{done.stdout[-3000:]}{done.stderr}"
    for command in afterwards:
        _remove_as_the_build_does(layout, command)

    runtime = stage("runtime")
    for copy in runtime.copies():
        if copy.from_stage == "build":
            for source in copy.sources:
                assert source == copy.destination and layout.path(source).exists(), copy
        else:
            target = _destination(layout, runtime.workdir(), copy.destination)
            _copy_context(copy.sources, target)
    for read_only in ("/app", "/opt/venv"):
        subprocess.run(["chmod", "-R", "a-w", str(layout.path(read_only))], check=True)
    return layout


def remove(layout: Layout) -> None:
    subprocess.run(["chmod", "-R", "u+w", str(layout.prefix)], check=False)
    shutil.rmtree(layout.prefix, ignore_errors=True)
