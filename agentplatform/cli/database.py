"""`agentplatform migrate | seed | check-db | create-user`: the database and its accounts."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

logger = logging.getLogger("agentplatform.cli")


def migrate(_args: argparse.Namespace) -> int:
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
        print(
            f"\n{bar}\n  Demo owner account created (shown this once; keep it safe):\n"
            f"    email:    {created.email}\n    password: {created.password}\n{bar}\n",
            flush=True,
        )


def seed(_args: argparse.Namespace) -> int:
    asyncio.run(_seed_async())
    return 0


async def _check_db_async() -> str:
    from agentplatform.core.db import dispose_engine
    from agentplatform.services.health import check_dependencies

    checks = await check_dependencies()
    await dispose_engine()
    return checks["database"]


def check_db(_args: argparse.Namespace) -> int:
    status = asyncio.run(_check_db_async())
    print(f"database: {status}")
    return 0 if status == "ok" else 1


async def _create_user_async(email: str, full_name: str) -> None:
    from agentplatform.core.db import dispose_engine, session_scope
    from agentplatform.services.bootstrap import create_user_account

    try:
        async with session_scope() as session:
            created = await create_user_account(session=session, email=email, full_name=full_name)
    finally:
        await dispose_engine()
    print(
        f"Account created (the password is shown this once):\n"
        f"  email:    {created.email}\n  password: {created.password}\n"
        "Owners can now add this account to their workspace by email."
    )


def create_user(args: argparse.Namespace) -> int:
    from agentplatform.core.errors import AppError

    try:
        asyncio.run(_create_user_async(args.email, args.full_name))
    except AppError as error:
        print(f"agentplatform: {error.message}", file=sys.stderr)
        return 1
    return 0
