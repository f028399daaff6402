"""`agentplatform backup | restore`: checksummed backups and verified restores."""

from __future__ import annotations

import argparse
import asyncio
import sys

from agentplatform.core.config import get_settings


def backup(args: argparse.Namespace) -> int:
    from agentplatform.core.errors import BackupError
    from agentplatform.services.backups import create_backup

    try:
        result = asyncio.run(create_backup(directory=args.dir, keep=args.keep))
    except BackupError as error:
        print(f"agentplatform: {error}", file=sys.stderr)
        return 1
    manifest = result.manifest
    print(
        f"backup written: {result.path} ({manifest.size} bytes, sha256 {manifest.sha256}, "
        f"migration {manifest.alembic_revision})"
    )
    for removed in result.removed:
        print(f"removed old backup: {removed.name}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from agentplatform.core.errors import BackupError
    from agentplatform.services.backups import restore_backup, verify_backup

    target = make_url(get_settings().database_url).render_as_string(hide_password=True)
    try:
        manifest = asyncio.run(verify_backup(path=args.file))
        if not args.yes:
            if not sys.stdin.isatty():
                print(
                    "agentplatform: restore replaces all data; pass --yes to confirm.",
                    file=sys.stderr,
                )
                return 2
            made, revision = manifest.created_at, manifest.alembic_revision
            print(
                f"This replaces ALL data in {target} with {args.file.name} "
                f"(made {made}, migration {revision})."
            )
            if input("Type 'restore' to continue: ").strip() != "restore":
                print("restore cancelled: nothing was changed")
                return 1
        asyncio.run(restore_backup(path=args.file))
    except BackupError as error:
        print(f"agentplatform: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.file.name} into {target}; migrated to the latest revision")
    return 0
