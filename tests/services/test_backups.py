"""Backup and restore on the session's database (SQLite or PostgreSQL, per TEST_DB)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from agentplatform.cli import main as cli_main
from agentplatform.core.cache import MemoryBackend, set_cache
from agentplatform.core.db import dispose_engine, make_sync_engine, session_scope
from agentplatform.core.errors import BackupError
from agentplatform.models import AuditEvent, Prompt, PromptVersion
from agentplatform.services import backups
from tests.conftest import DATABASE_URL, TEST_DB
from tests.factories import make_user


def snapshot() -> dict[str, list[tuple[str, ...]]]:
    """Every row of every table (alembic_version included), order-independent."""
    engine = make_sync_engine(DATABASE_URL)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            return {
                table: sorted(
                    tuple(repr(value) for value in row)
                    for row in connection.execute(text(f'SELECT * FROM "{table}"'))
                )
                for table in tables
            }
    finally:
        engine.dispose()


async def seed() -> None:
    """Users, workspaces, memberships, a prompt with a version, an audit event with JSON."""
    owner = await make_user(full_name="Ada Owner")
    await make_user(full_name="Bob Builder")
    async with session_scope() as session:
        prompt = Prompt(workspace_id=owner.workspace_id, name="greeter", tags=["demo", "ß→✓"])
        session.add(prompt)
        await session.flush()
        session.add(
            PromptVersion(
                prompt_id=prompt.id,
                number=1,
                template="Hello {{name}}\nmultiline ✓",
                variables=["name"],
                config={"temperature": 0.2},
            )
        )
        session.add(
            AuditEvent(
                workspace_id=owner.workspace_id,
                action="create",
                resource_type="prompt",
                after={"name": "greeter", "nested": {"n": [1, 2]}},
            )
        )
        await session.commit()


async def backup(directory: Path, keep: int = 7) -> backups.BackupResult:
    return await backups.create_backup(database_url=DATABASE_URL, directory=directory, keep=keep)


def _rows(snap: dict[str, list[tuple[str, ...]]]) -> int:
    return sum(len(rows) for table, rows in snap.items() if table != "alembic_version")


async def test_round_trip_restores_identical_data(tmp_path: Path) -> None:
    await seed()
    before = snapshot()
    assert _rows(before) >= 8
    result = await backup(tmp_path)
    manifest = json.loads(backups.manifest_path(result.path).read_text())
    assert manifest["database_kind"] == TEST_DB
    assert manifest["alembic_revision"] == backups._script().get_current_head()
    assert manifest["size"] == result.path.stat().st_size
    assert {"app_version", "created_at", "sha256"} <= set(manifest)
    checksum = backups.checksum_path(result.path).read_text()
    assert checksum == f"{manifest['sha256']}  {result.path.name}\n"

    await make_user(full_name="Created after the backup")  # a change the restore must undo
    await dispose_engine()
    async with session_scope() as session:
        for table in ("auditevent", "promptversion", "prompt"):
            await session.exec(text(f'DELETE FROM "{table}"'))  # type: ignore[call-overload]
        await session.commit()
    await dispose_engine()
    assert snapshot() != before

    cache = MemoryBackend()  # a cached read of the data the restore replaces
    set_cache(cache)
    await cache.set("val:prompt:x:0:latest", b'[2, "after the backup"]', ttl_s=300)
    restored = await backups.restore_backup(path=result.path, database_url=DATABASE_URL)
    assert restored.sha256 == manifest["sha256"]
    assert snapshot() == before
    assert len(cache) == 0


async def test_truncated_backup_is_refused_and_data_untouched(tmp_path: Path) -> None:
    await seed()
    result = await backup(tmp_path)
    await make_user(full_name="Kept")
    current = snapshot()
    data = result.path.read_bytes()
    result.path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BackupError, match="truncated"):
        await backups.restore_backup(path=result.path, database_url=DATABASE_URL)
    assert snapshot() == current


async def test_checksum_mismatch_is_refused(tmp_path: Path) -> None:
    await seed()
    result = await backup(tmp_path)
    current = snapshot()
    data = bytearray(result.path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    result.path.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="checksum does not match"):
        await backups.restore_backup(path=result.path, database_url=DATABASE_URL)
    assert snapshot() == current


def _edit_manifest(path: Path, **changes: Any) -> None:
    sidecar = backups.manifest_path(path)
    sidecar.write_text(json.dumps({**json.loads(sidecar.read_text()), **changes}))


async def test_backup_of_another_database_kind_is_refused(tmp_path: Path) -> None:
    result = await backup(tmp_path)
    other = "postgresql" if TEST_DB == "sqlite" else "sqlite"
    _edit_manifest(result.path, database_kind=other)
    with pytest.raises(BackupError, match=f"it is a {other} backup and this database is {TEST_DB}"):
        await backups.verify_backup(path=result.path, database_url=DATABASE_URL)


async def test_backup_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    await seed()
    result = await backup(tmp_path)
    current = snapshot()
    _edit_manifest(result.path, alembic_revision="ffffffffffff")
    with pytest.raises(BackupError, match="newer than this version"):
        await backups.restore_backup(path=result.path, database_url=DATABASE_URL)
    assert snapshot() == current


async def test_missing_sidecars_are_refused(tmp_path: Path) -> None:
    result = await backup(tmp_path)
    backups.checksum_path(result.path).unlink()
    with pytest.raises(BackupError, match=r"checksum file .* is missing"):
        await backups.verify_backup(path=result.path, database_url=DATABASE_URL)
    backups.manifest_path(result.path).unlink()
    with pytest.raises(BackupError, match=r"manifest .* is missing"):
        await backups.verify_backup(path=result.path, database_url=DATABASE_URL)


async def test_retention_keeps_the_newest(tmp_path: Path) -> None:
    made = [await backup(tmp_path, keep=2) for _ in range(4)]
    kept = backups.backup_files(tmp_path)
    assert kept == [made[2].path, made[3].path]
    assert made[3].removed == [made[1].path]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        name
        for result in made[2:]
        for name in (result.path.name, f"{result.path.name}.sha256", f"{result.path.name}.json")
    )


def test_cli_backup_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["backup", "--dir", str(tmp_path), "--keep", "3"]) == 0
    written = backups.backup_files(tmp_path)
    assert len(written) == 1
    assert f"backup written: {written[0]}" in capsys.readouterr().out
    assert cli_main(["restore", str(written[0])]) == 2  # no terminal, no --yes: nothing happens
    assert "pass --yes" in capsys.readouterr().err
    assert cli_main(["restore", str(written[0]), "--yes"]) == 0
    assert f"restored {written[0].name}" in capsys.readouterr().out
    written[0].write_bytes(b"not a backup")
    assert cli_main(["restore", str(written[0]), "--yes"]) == 1
    assert "truncated" in capsys.readouterr().err
