"""Where the app's files are: what ships beside the code, and where it writes by default.

An installed wheel carries `alembic/`, `alembic.ini`, `rxconfig.py`, `assets/` and
`reflex.lock/` in `agentplatform/_bundle/` (pyproject's force-include); a source checkout
keeps them at the repository's top level. Nothing here depends on the working directory.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from platformdirs import user_data_path

from agentplatform.core.errors import ConfigError

PACKAGE_DIR = Path(__file__).resolve().parents[1]
BUNDLE_DIR = PACKAGE_DIR / "_bundle"


def _has_resources(directory: Path) -> bool:
    return (directory / "alembic" / "env.py").is_file() and (directory / "rxconfig.py").is_file()


@cache
def source_checkout() -> Path | None:
    """The repository root when the code runs from a checkout (editable install), else None."""
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and _has_resources(root):
        return root
    return None


@cache
def resources_dir() -> Path:
    """The directory holding `alembic/`, `alembic.ini`, `rxconfig.py` and `assets/`."""
    if _has_resources(BUNDLE_DIR):
        return BUNDLE_DIR
    checkout = source_checkout()
    if checkout is not None:
        return checkout
    raise ConfigError(
        f"the installation is incomplete: no migrations or rxconfig.py in {BUNDLE_DIR}; "
        "reinstall the agentplatform wheel"
    )


def default_data_dir() -> Path:
    """`data/` in a checkout; else the user's data directory (`~/.local/share/agentplatform`
    on Linux, honouring `XDG_DATA_HOME`), never inside site-packages."""
    checkout = source_checkout()
    if checkout is not None:
        return checkout / "data"
    return user_data_path("agentplatform", appauthor=False)
