"""`agentplatform serve | build-frontend | worker`: the processes a deployment runs."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from agentplatform.cli import frontend
from agentplatform.cli.database import migrate, seed
from agentplatform.core.config import get_settings
from agentplatform.core.errors import ConfigError

logger = logging.getLogger("agentplatform.cli")


def build_frontend(_args: argparse.Namespace) -> int:
    settings = get_settings()
    current = frontend.plan(settings)
    if not current.build_needed:
        print(f"frontend in {current.app_dir} is up to date")
        return 0
    try:
        app_dir = frontend.build(settings)
    except ConfigError as error:
        print(f"agentplatform: {error}", file=sys.stderr)
        return 1
    print(f"frontend built in {app_dir}")
    return 0


def serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    migrate(args)
    seed(args)
    current = frontend.plan(settings)
    if current.build_needed:
        logger.info("building the frontend in %s: %s", current.app_dir, current.reason)
        try:
            frontend.build(settings)
        except ConfigError as error:
            print(f"agentplatform: {error}", file=sys.stderr)
            return 1
    logger.info("serving UI and API on http://localhost:%s", settings.port)
    env = frontend.reflex_environment(settings)
    env.setdefault("REFLEX_LOGLEVEL", "warning")
    os.chdir(current.app_dir)
    command = [sys.executable, "-m", "agentplatform.cli.reflex_backend"]
    # The server replaces this process, so SIGTERM (docker stop, Kubernetes) reaches it directly.
    os.execve(sys.executable, command, env)


def worker(args: argparse.Namespace) -> int:
    if not get_settings().redis_url:
        print(
            "agentplatform: the worker consumes the Redis run queue: set REDIS_URL",
            file=sys.stderr,
        )
        return 2
    from agentplatform.services.run_worker import run_worker

    return asyncio.run(run_worker(concurrency=args.concurrency, grace_s=args.grace))
