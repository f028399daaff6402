"""The served frontend: an application directory Reflex runs in, built once per build key.

The application directory (Settings.app_dir) holds `rxconfig.py`, `assets/`, `reflex.lock/`
and the build in `.web/`. Its build is stamped with a key over everything the compiled pages
depend on (our code, rxconfig.py, assets, the npm lock, the version, the URL the browser
calls back); `serve` builds only when the stamp is missing or different, so an image built
once starts from a read-only directory, and a checkout rebuilds after a change.
"""

from __future__ import annotations

import fcntl
import filecmp
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agentplatform.core.config import Settings
from agentplatform.core.errors import ConfigError
from agentplatform.core.paths import PACKAGE_DIR, resources_dir
from agentplatform.services.health import app_version

STAMP = Path(".web") / "agentplatform-build.json"
BUILD_LOCK = ".agentplatform-build.lock"
STATIC_INDEX = Path(".web") / "build" / "client" / "index.html"
APP_FILES = ("rxconfig.py",)
APP_TREES = ("assets", "reflex.lock")


@dataclass(frozen=True)
class FrontendPlan:
    app_dir: Path
    key: str
    build_needed: bool
    reason: str


def _tree_files(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and "external" not in path.parts
    )


def build_key(settings: Settings) -> str:
    """A digest of what the compiled frontend depends on."""
    digest = hashlib.sha256()
    resources = resources_dir()
    sources = [(PACKAGE_DIR, p) for p in _tree_files(PACKAGE_DIR) if p.suffix in {".py", ".jsx"}]
    for name in APP_FILES:
        sources.append((resources, resources / name))
    for tree in APP_TREES:
        sources.extend((resources, p) for p in _tree_files(resources / tree))
    for base, path in sources:
        digest.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"{app_version()}|{settings.port}|{settings.reflex_api_url}".encode())
    return digest.hexdigest()


def _stamped_key(app_dir: Path) -> str:
    try:
        return str(json.loads((app_dir / STAMP).read_text())["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def plan(settings: Settings) -> FrontendPlan:
    """Whether this start can serve the build in the application directory as it is."""
    app_dir = settings.frontend_dir
    key = build_key(settings)
    if not (app_dir / STATIC_INDEX).is_file():
        return FrontendPlan(app_dir, key, True, "no frontend has been built there yet")
    if _stamped_key(app_dir) != key:
        return FrontendPlan(app_dir, key, True, "the code, PORT or REFLEX_API_URL changed")
    return FrontendPlan(app_dir, key, False, "up to date")


def _writable(directory: Path) -> bool:
    return os.access(directory, os.W_OK | os.X_OK)


def _sync_app_files(app_dir: Path) -> None:
    """Copy rxconfig.py, assets/ and reflex.lock/ from the installed package when they differ."""
    resources = resources_dir()
    if app_dir.resolve() == resources.resolve():
        return
    for name in APP_FILES:
        source, target = resources / name, app_dir / name
        if not target.is_file() or not filecmp.cmp(source, target, shallow=False):
            shutil.copyfile(source, target)
    for tree in APP_TREES:
        shutil.copytree(resources / tree, app_dir / tree, dirs_exist_ok=True)


@contextmanager
def _build_lock(app_dir: Path) -> Iterator[None]:
    """One build at a time per application directory (replicas started side by side)."""
    with (app_dir / BUILD_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build(settings: Settings) -> Path:
    """Compile and bundle the frontend into the application directory; stamp it."""
    app_dir = settings.frontend_dir
    app_dir.mkdir(parents=True, exist_ok=True)
    if not _writable(app_dir):
        raise ConfigError(
            f"the frontend in {app_dir} must be rebuilt ({plan(settings).reason}) but the "
            "directory is read-only: rebuild the image for this PORT/REFLEX_API_URL, or point "
            "APP_DIR at a writable directory"
        )
    with _build_lock(app_dir):
        current = plan(settings)  # another process may have built it while this one waited
        if not current.build_needed:
            return app_dir
        _sync_app_files(app_dir)
        (app_dir / STAMP).unlink(missing_ok=True)
        reflex = Path(sys.executable).parent / "reflex"
        # --no-ssr: pages are client-rendered (rxconfig.py), and a prerendered page would be a
        # directory that the static server redirects to a trailing slash.
        command = [str(reflex), "export", "--frontend-only", "--no-zip", "--env", "prod"]
        command += ["--no-ssr", "--loglevel", "warning"]
        env = reflex_environment(settings)
        done = subprocess.run(command, cwd=app_dir, env=env, check=False)
        if done.returncode != 0 or not (app_dir / STATIC_INDEX).is_file():
            raise ConfigError(f"the frontend build in {app_dir} failed (see the output above)")
        (app_dir / STAMP).write_text(json.dumps({"key": current.key, "version": app_version()}))
    return app_dir


def reflex_environment(settings: Settings) -> dict[str, str]:
    """The environment Reflex runs with: our PORT, REFLEX_API_URL when one is set, and its
    per-session UI state (kept on disk when there is no Redis) under DATA_DIR, never in the
    application directory, which may be read-only."""
    env = {**os.environ, "PORT": str(settings.port)}
    if settings.reflex_api_url:
        env["REFLEX_API_URL"] = settings.reflex_api_url
    env.setdefault("REFLEX_STATES_WORKDIR", str(settings.data_dir / "ui-states"))
    return env
