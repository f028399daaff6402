"""deployment/backup.sh and restore.sh, run as an operator would inside the container."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "deployment" / script), *args],
        env=env, cwd=env["DATA_DIR"], capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_backup_then_restore_through_the_scripts(tmp_path: Path) -> None:
    database = tmp_path / "data" / "app.db"
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": f"sqlite:///{database}",
        "BACKUP_KEEP": "2",
    }
    (tmp_path / "data").mkdir()
    migrate = subprocess.run(
        [str(BIN / "agentplatform"), "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    with sqlite3.connect(database) as connection:
        connection.execute("INSERT INTO workspace (id, name, slug, created_at) "
                           "VALUES ('11111111111111111111111111111111', 'Kept', 'kept', "
                           "'2026-01-01 00:00:00')")  # fmt: skip

    for _ in range(3):
        made = run("backup.sh", env=env)
        assert made.returncode == 0, made.stderr
    backups = sorted((tmp_path / "data" / "backups").glob("agentplatform-sqlite-*.sqlite3"))
    assert len(backups) == 2, "BACKUP_KEEP=2 keeps the two newest"

    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM workspace")
    assert run("restore.sh", env=env).returncode == 2, "a file is required"
    restored = run("restore.sh", str(backups[-1]), "--yes", env=env)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(database) as connection:
        names = [row[0] for row in connection.execute("SELECT name FROM workspace")]
    assert names == ["Kept"]
