"""The `agentplatform` command: migrate, seed, serve, run workers, back up and restore."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from agentplatform.cli import backups, database, serve
from agentplatform.core.config import get_settings
from agentplatform.core.errors import ConfigError
from agentplatform.core.logging import configure_logging
from agentplatform.observability.sentry import init_sentry
from agentplatform.services.health import app_version


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agentplatform", description=__doc__)
    parser.add_argument("--version", action="version", version=f"agentplatform {app_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(
        run=database.migrate
    )
    commands.add_parser("seed", help="create the demo owner on an empty database").set_defaults(
        run=database.seed
    )
    commands.add_parser("check-db", help="exit 0 when the database answers").set_defaults(
        run=database.check_db
    )
    commands.add_parser("serve", help="migrate, seed, build and serve UI + API").set_defaults(
        run=serve.serve
    )
    commands.add_parser(
        "build-frontend", help="build the UI into APP_DIR (serve does it when needed)"
    ).set_defaults(run=serve.build_frontend)
    create_user = commands.add_parser(
        "create-user", help="create an account with a generated password (sign-up closed)"
    )
    create_user.add_argument("email", help="the new account's email")
    create_user.add_argument("--full-name", default="", help="the person's name")
    create_user.set_defaults(run=database.create_user)
    worker = commands.add_parser("worker", help="execute runs from the Redis queue (REDIS_URL)")
    worker.add_argument(
        "--concurrency",
        type=_positive,
        default=None,
        help="runs at once (default: RUN_CONCURRENCY)",
    )
    worker.add_argument(
        "--grace", type=float, default=25.0, help="seconds running runs get to finish on SIGTERM"
    )
    worker.set_defaults(run=serve.worker)
    backup = commands.add_parser("backup", help="back up the database (with checksum, manifest)")
    backup.add_argument("--dir", type=Path, default=None, help="default: BACKUP_DIR")
    backup.add_argument("--keep", type=_positive, default=None, help="newest backups to keep")
    backup.set_defaults(run=backups.backup)
    restore = commands.add_parser("restore", help="verify a backup, then replace all data with it")
    restore.add_argument("file", type=Path, help="a backup file written by `agentplatform backup`")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.set_defaults(run=backups.restore)
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
