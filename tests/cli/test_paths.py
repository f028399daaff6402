"""What ships beside the code is found without looking at the working directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from agentplatform.core import paths

ROOT = Path(__file__).resolve().parents[2]


def test_a_checkout_finds_its_migrations_and_frontend_sources_at_the_top() -> None:
    assert paths.source_checkout() == ROOT
    assert paths.resources_dir() == ROOT
    assert paths.default_data_dir() == ROOT / "data"


def test_the_command_works_from_any_directory_and_prints_its_version(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "agentplatform.cli", "--version"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().startswith("agentplatform ")
