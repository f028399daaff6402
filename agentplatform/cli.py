"""The `agentplatform` command: migrate, seed, serve, run workers, back up and restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from agentplatform.core.config import PROJECT_ROOT, get_settings
from agentplatform.core.errors import ConfigError
from agentplatform.core.logging import configure_logging
from agentplatform.observability.sentry import init_sentry

logger = logging.getLogger("agentplatform.cli")


def _migrate(_args: argparse.Namespace) -> int:
    from agentplatform.core import migrations

    migrations.upgrade()
    logger.info("database is at the latest migration")
    return 0


async def _seed_async() -> None:
    from agentplatform.core.db import dispose_engine, session_scope
    from agentplatform.services.bootstrap import ensure_demo_owner

    async with session_scope() as session:
        created = await ensure_demo_owner(session=session)
    await dispose_engine()
    if created:
        bar = "=" * 64
        print(f"\n{bar}\n  Demo owner account created (shown this once; keep it safe):\n"
              f"    email:    {created.email}\n    password: {created.password}\n{bar}\n",
              flush=True)  # fmt: skip


async def _create_user_async(email: str, full_name: str) -> None:
    from agentplatform.core.db import dispose_engine, session_scope
    from agentplatform.services.bootstrap import create_user_account

    try:
        async with session_scope() as session:
            created = await create_user_account(session=session, email=email, full_name=full_name)
    finally:
        await dispose_engine()
    print(f"Account created (the password is shown this once):\n"
          f"  email:    {created.email}\n  password: {created.password}\n"
          "Owners can now add this account to their workspace by email.")  # fmt: skip


def _create_user(args: argparse.Namespace) -> int:
    from agentplatform.core.errors import AppError

    try:
        asyncio.run(_create_user_async(args.email, args.full_name))
    except AppError as error:
        print(f"agentplatform: {error.message}", file=sys.stderr)
        return 1
    return 0


def _seed(_args: argparse.Namespace) -> int:
    asyncio.run(_seed_async())
    return 0


async def _check_db_async() -> str:
    from agentplatform.core.db import dispose_engine
    from agentplatform.services.health import check_dependencies

    checks = await check_dependencies()
    await dispose_engine()
    return checks["database"]


def _check_db(_args: argparse.Namespace) -> int:
    status = asyncio.run(_check_db_async())
    print(f"database: {status}")
    return 0 if status == "ok" else 1


def _serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    _migrate(args)
    _seed(args)
    port = str(settings.port)
    logger.info("serving UI and API on http://localhost:%s", port)
    command = [
        str(Path(sys.executable).parent / "reflex"),
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        port,
        "--backend-port",
        port,
        "--loglevel",
        "warning",
    ]
    env = {**os.environ, "PORT": port}
    os.chdir(PROJECT_ROOT)
    # Reflex replaces this process, so SIGTERM (docker stop, Kubernetes) reaches it directly.
    os.execve(command[0], command, env)


def _worker(args: argparse.Namespace) -> int:
    if not get_settings().redis_url:
        print("agentplatform: the worker consumes the Redis run queue: set REDIS_URL",
              file=sys.stderr)  # fmt: skip
        return 2
    from agentplatform.services.run_worker import run_worker

    return asyncio.run(run_worker(concurrency=args.concurrency, grace_s=args.grace))


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _backup(args: argparse.Namespace) -> int:
    from agentplatform.core.errors import BackupError
    from agentplatform.services.backups import create_backup

    try:
        result = asyncio.run(create_backup(directory=args.dir, keep=args.keep))
    except BackupError as error:
        print(f"agentplatform: {error}", file=sys.stderr)
        return 1
    manifest = result.manifest
    print(f"backup written: {result.path} ({manifest.size} bytes, sha256 {manifest.sha256}, "
          f"migration {manifest.alembic_revision})")  # fmt: skip
    for removed in result.removed:
        print(f"removed old backup: {removed.name}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from agentplatform.core.errors import BackupError
    from agentplatform.services.backups import restore_backup, verify_backup

    target = make_url(get_settings().database_url).render_as_string(hide_password=True)
    try:
        manifest = asyncio.run(verify_backup(path=args.file))
        if not args.yes:
            if not sys.stdin.isatty():
                print("agentplatform: restore replaces all data; pass --yes to confirm.",
                      file=sys.stderr)  # fmt: skip
                return 2
            made, revision = manifest.created_at, manifest.alembic_revision
            print(f"This replaces ALL data in {target} with {args.file.name} "
                  f"(made {made}, migration {revision}).")  # fmt: skip
            if input("Type 'restore' to continue: ").strip() != "restore":
                print("restore cancelled: nothing was changed")
                return 1
        asyncio.run(restore_backup(path=args.file))
    except BackupError as error:
        print(f"agentplatform: {error}", file=sys.stderr)
        return 1
    print(f"restored {args.file.name} into {target}; migrated to the latest revision")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentplatform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    commands.add_parser("seed", help="create the demo owner on an empty database").set_defaults(
        run=_seed
    )
    commands.add_parser("check-db", help="exit 0 when the database answers").set_defaults(
        run=_check_db
    )
    commands.add_parser("serve", help="migrate, seed, build and serve UI + API").set_defaults(
        run=_serve
    )
    create_user = commands.add_parser(
        "create-user", help="create an account with a generated password (sign-up closed)"
    )
    create_user.add_argument("email", help="the new account's email")
    create_user.add_argument("--full-name", default="", help="the person's name")
    create_user.set_defaults(run=_create_user)
    worker = commands.add_parser("worker", help="execute runs from the Redis queue (REDIS_URL)")
    worker.add_argument("--concurrency", type=_positive, default=None,
                        help="runs at once (default: RUN_CONCURRENCY)")  # fmt: skip
    worker.add_argument("--grace", type=float, default=25.0,
                        help="seconds running runs get to finish on SIGTERM")  # fmt: skip
    worker.set_defaults(run=_worker)
    backup = commands.add_parser("backup", help="back up the database (with checksum, manifest)")
    backup.add_argument("--dir", type=Path, default=None, help="default: BACKUP_DIR")
    backup.add_argument("--keep", type=_positive, default=None, help="newest backups to keep")
    backup.set_defaults(run=_backup)
    restore = commands.add_parser("restore", help="verify a backup, then replace all data with it")
    restore.add_argument("file", type=Path, help="a backup file written by `agentplatform backup`")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(run=_restore)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as error:
        print(f"agentplatform: configuration error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, str(settings.log_format))
    init_sentry(settings)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
