"""Backups: make one with a checksum and a manifest, keep the N newest, restore one safely.

A backup is three files: `agentplatform-<kind>-<UTC time>.<ext>`, `<file>.sha256` (the
`sha256sum` format) and `<file>.json` (the manifest). Restore checks all of them, the
database kind and the migration revision before it touches any data.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from redis.exceptions import RedisError
from sqlalchemy import inspect, text

from agentplatform.core import migrations
from agentplatform.core.cache import clear_cache
from agentplatform.core.config import get_settings
from agentplatform.core.db import make_sync_engine
from agentplatform.core.errors import BackupError
from agentplatform.services import backup_engines as engines
from agentplatform.services.health import app_version

logger = logging.getLogger(__name__)
PREFIX = "agentplatform-"
EXTENSIONS = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class BackupManifest:
    """What a backup holds; written beside it as `<file>.json`."""

    file: str
    database_kind: str
    alembic_revision: str | None
    app_version: str
    created_at: str
    size: int
    sha256: str
    format: int = MANIFEST_FORMAT


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: BackupManifest
    removed: list[Path]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrations.alembic_config())


def _live_revision(database_url: str) -> str | None:
    engine = make_sync_engine(database_url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def backup_files(directory: Path) -> list[Path]:
    """Complete backups in `directory` (those with a manifest), oldest first."""
    if not directory.is_dir():
        return []
    found = [
        path
        for ext in EXTENSIONS.values()
        for path in directory.glob(f"{PREFIX}*{ext}")
        if manifest_path(path).exists()
    ]
    return sorted(found, key=lambda path: path.name.split("-", 2)[-1])


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the `keep` newest backups (with their sidecar files); return the removed."""
    stale = backup_files(directory)[:-keep] if keep > 0 else []
    for path in stale:
        for item in (path, checksum_path(path), manifest_path(path)):
            item.unlink(missing_ok=True)
    return stale


def _make_backup(database_url: str, directory: Path, keep: int) -> BackupResult:
    kind = engines.database_kind(database_url)
    directory.mkdir(parents=True, exist_ok=True)
    created = datetime.now(UTC)
    path = directory / f"{PREFIX}{kind}-{created:%Y%m%dT%H%M%S%fZ}{EXTENSIONS[kind]}"
    partial = path.with_name(path.name + ".partial")
    try:
        if kind == "sqlite":
            engines.sqlite_backup(database_url, partial)
            revision = engines.sqlite_revision(partial)
        else:
            revision = _live_revision(database_url)
            engines.pg_backup(database_url, partial)
        digest = _sha256(partial)
        manifest = BackupManifest(
            file=path.name,
            database_kind=kind,
            alembic_revision=revision,
            app_version=app_version(),
            created_at=created.isoformat(),
            size=partial.stat().st_size,
            sha256=digest,
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    checksum_path(path).write_text(f"{digest}  {path.name}\n")
    manifest_path(path).write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    removed = prune(directory, keep)
    logger.info("backup written", extra={"file": str(path), "size": manifest.size})
    return BackupResult(path=path, manifest=manifest, removed=removed)


def _read_manifest(path: Path) -> BackupManifest:
    sidecar = manifest_path(path)
    if not sidecar.exists():
        raise BackupError(f"Refusing {path.name}: its manifest {sidecar.name} is missing.")
    try:
        data = json.loads(sidecar.read_text())
        return BackupManifest(**data)
    except (ValueError, TypeError):
        raise BackupError(
            f"Refusing {path.name}: its manifest {sidecar.name} is unreadable."
        ) from None


def _check_revision(name: str, revision: str | None) -> None:
    script = _script()
    head = script.get_current_head()
    if revision is None:
        raise BackupError(f"Refusing {name}: it has no migration revision (not an app database).")
    if revision not in {script_revision.revision for script_revision in script.walk_revisions()}:
        raise BackupError(
            f"Refusing {name}: it is at migration {revision}, newer than this version of "
            f"AgentPlatform knows (head {head}); restore it with a newer release."
        )


def verify(path: Path, database_url: str) -> BackupManifest:
    """Every check restore makes before it touches data; raises `BackupError` with one line."""
    if not path.is_file():
        raise BackupError(f"Refusing {path}: no such file.")
    manifest = _read_manifest(path)
    sidecar = checksum_path(path)
    if not sidecar.exists():
        raise BackupError(f"Refusing {path.name}: its checksum file {sidecar.name} is missing.")
    size = path.stat().st_size
    if size < manifest.size:
        raise BackupError(
            f"Refusing {path.name}: it is truncated ({size} of {manifest.size} bytes)."
        )
    if size != manifest.size:
        raise BackupError(f"Refusing {path.name}: it is {size} bytes, expected {manifest.size}.")
    expected = next(iter(sidecar.read_text().split()), "")
    if _sha256(path) != expected or expected != manifest.sha256:
        raise BackupError(f"Refusing {path.name}: its SHA-256 checksum does not match.")
    kind = engines.database_kind(database_url)
    if manifest.database_kind != kind:
        raise BackupError(
            f"Refusing {path.name}: it is a {manifest.database_kind} backup and this "
            f"database is {kind}."
        )
    _check_revision(path.name, manifest.alembic_revision)
    if kind == "sqlite":
        engines.sqlite_check(path)
    else:
        engines.pg_archive_tables(path)
    return manifest


def _drop_tables_not_in(database_url: str, keep: set[str]) -> None:
    """After a PostgreSQL restore, tables the archive does not have belong to no backup state."""
    engine = make_sync_engine(database_url)
    try:
        with engine.begin() as connection:
            for table in inspect(connection).get_table_names(schema="public"):
                if f"public.{table}" not in keep:
                    connection.execute(text(f'DROP TABLE IF EXISTS public."{table}" CASCADE'))
    finally:
        engine.dispose()


def _restore(path: Path, database_url: str) -> BackupManifest:
    manifest = verify(path, database_url)
    if manifest.database_kind == "sqlite":
        engines.sqlite_restore(database_url, path)
    else:
        tables = engines.pg_archive_tables(path)
        engines.pg_restore(database_url, path)
        _drop_tables_not_in(database_url, tables)
    migrations.upgrade(database_url)
    logger.info("backup restored", extra={"file": str(path), "revision": manifest.alembic_revision})
    return manifest


async def create_backup(
    *, database_url: str | None = None, directory: Path | None = None, keep: int | None = None
) -> BackupResult:
    """Back up the database into `directory` (default BACKUP_DIR) and keep the `keep` newest."""
    settings = get_settings()
    return await asyncio.to_thread(
        _make_backup,
        database_url or settings.database_url,
        directory or settings.backups_dir,
        keep if keep is not None else settings.backup_keep,
    )


async def verify_backup(*, path: Path, database_url: str | None = None) -> BackupManifest:
    """Check a backup against this database without changing anything."""
    return await asyncio.to_thread(verify, path, database_url or get_settings().database_url)


async def restore_backup(*, path: Path, database_url: str | None = None) -> BackupManifest:
    """Verify, then replace all data with the backup's and migrate it to this version's head;
    then forget every cached read of the old data."""
    manifest = await asyncio.to_thread(_restore, path, database_url or get_settings().database_url)
    try:
        await clear_cache()
    except (RedisError, OSError) as error:
        logger.warning(
            "restored, but the Redis cache could not be cleared (%s): cached entries of the "
            "old data expire on their own (provider connections and dashboard figures within "
            "a minute, prompt resolutions within 5 minutes, prices within an hour)",
            error,
        )
    return manifest
