"""Hot reads are cached and every write that changes them is seen at once, on any replica."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlmodel import col, update

from agentplatform.core.cache import MemoryBackend, RedisBackend, set_cache
from agentplatform.core.db import session_scope
from agentplatform.core.errors import NotFound
from agentplatform.models import PromptLabel, Run
from agentplatform.models.prompt import PromptVersionCreate
from agentplatform.models.provider import ProviderCreate, ProviderUpdate
from agentplatform.models.run import RunCreate
from agentplatform.services import prompt_versions, providers, runs
from agentplatform.services.permissions import Actor
from agentplatform.services.prices import PriceSet, price_table, reset_price, set_price
from agentplatform.services.prompts import resolve_prompt
from agentplatform.services.provider_connections import ProviderConnection, provider_connections
from agentplatform.services.run_metrics import metrics_summary
from tests.services import REDIS_URL
from tests.services.redis_support import closed_port_url, redis_namespace
from tests.services.run_support import (
    HoldingDispatcher,
    isolated_runs,
    make_agent,
    make_prompt,
    make_provider,
    owner,
)


@pytest.fixture(autouse=True)
async def _held_runs() -> AsyncIterator[None]:
    """Runs stay queued: these tests are about what is read, not about executing."""
    from agentplatform.services.run_dispatch import set_dispatcher

    async with isolated_runs():
        set_dispatcher(HoldingDispatcher())
        yield


async def production_of(actor: Actor, prompt_id: uuid.UUID) -> tuple[int, str]:
    async with session_scope() as session:
        return await resolve_prompt(
            session=session, workspace_id=actor.workspace_id, prompt_id=prompt_id,
            label="production",
        )  # fmt: skip


async def start_run(actor: Actor, agent: uuid.UUID) -> uuid.UUID:
    async with session_scope() as session:
        data = RunCreate(agent_id=agent, input="hi")
        return (await runs.create_run(session=session, actor=actor, data=data)).id


async def run_count(actor: Actor) -> int:
    async with session_scope() as session:
        return (await metrics_summary(session=session, actor=actor)).runs


async def test_label_moves_and_new_versions_are_seen_at_once() -> None:
    set_cache(MemoryBackend())
    _user, actor = await owner()
    prompt = await make_prompt(actor.workspace_id, "greeter", ["v1 text", "v2 text"],
                               labels={"production": 1})  # fmt: skip
    assert await production_of(actor, prompt) == (1, "v1 text")

    # A change behind the services' back is not seen: the answer comes from the cache.
    async with session_scope() as session:
        await session.exec(update(PromptLabel).where(col(PromptLabel.prompt_id) == prompt)
                           .values(label="moved-by-hand"))  # fmt: skip
        await session.commit()
    assert await production_of(actor, prompt) == (1, "v1 text")
    async with session_scope() as session:
        await session.exec(update(PromptLabel).where(col(PromptLabel.prompt_id) == prompt)
                           .values(label="production"))  # fmt: skip
        await session.commit()

    async with session_scope() as session:  # deploy v2 through the service
        await prompt_versions.move_label(
            session=session, actor=actor, prompt_id=prompt, label="production", number=2
        )
    assert await production_of(actor, prompt) == (2, "v2 text")

    async with session_scope() as session:  # `latest` follows a new version
        await prompt_versions.create_version(
            session=session, actor=actor, prompt_id=prompt,
            data=PromptVersionCreate(template="v3 text"),
        )  # fmt: skip
        latest = await resolve_prompt(
            session=session, workspace_id=actor.workspace_id, prompt_id=prompt
        )
    assert latest == (3, "v3 text")


async def test_another_workspace_never_reads_a_cached_prompt() -> None:
    set_cache(MemoryBackend())
    _user, actor = await owner()
    _other_user, stranger = await owner()
    prompt = await make_prompt(actor.workspace_id, "private", ["secret"], labels={"production": 1})
    assert await production_of(actor, prompt) == (1, "secret")
    with pytest.raises(NotFound):
        await production_of(stranger, prompt)


async def test_dashboard_figures_follow_new_and_cancelled_runs() -> None:
    set_cache(MemoryBackend())
    _user, actor = await owner()
    agent = await make_agent(actor.workspace_id, "a")
    assert await run_count(actor) == 0
    async with session_scope() as session:
        run = await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent, input="hi")
        )
    assert await run_count(actor) == 1
    async with session_scope() as session:
        await runs.cancel_run(session=session, actor=actor, run_id=run.id)
        summary = await metrics_summary(session=session, actor=actor)
    assert (summary.runs, summary.cancelled) == (1, 1)


async def prices_of(actor: Actor) -> tuple[float, float] | None:
    async with session_scope() as session:
        table = await price_table(session, actor.workspace_id)
    price = table.get("house-model")
    return None if price is None else (price.input_per_mtok, price.output_per_mtok)


async def test_price_edits_apply_to_the_next_run_at_once_and_stay_in_their_workspace() -> None:
    set_cache(MemoryBackend())
    _user, actor = await owner()
    _other_user, stranger = await owner()
    assert await prices_of(actor) is None  # cached now: no price for this model yet
    async with session_scope() as session:
        await set_price(session=session, actor=actor, model="house-model",
                        data=PriceSet(input_per_mtok=1.5, output_per_mtok=6))  # fmt: skip
    assert await prices_of(actor) == (1.5, 6.0)
    assert await prices_of(stranger) is None
    async with session_scope() as session:
        await reset_price(session=session, actor=actor, model="house-model")
    assert await prices_of(actor) is None


async def connection_of(actor: Actor, provider_id: uuid.UUID) -> ProviderConnection:
    async with session_scope() as session:
        found = await provider_connections(session, actor.workspace_id, {provider_id})
    return found[provider_id]


async def test_provider_edits_apply_to_the_next_run_at_once_and_keys_stay_encrypted() -> None:
    memory = MemoryBackend()
    set_cache(memory)
    _user, actor = await owner()
    _other_user, stranger = await owner()
    async with session_scope() as session:
        created = await providers.create_provider(session=session, actor=actor, data=ProviderCreate(
            name="house", kind="openai", base_url="http://127.0.0.1:9/v1", api_key="sk-first-key",
            models=["m"]))  # fmt: skip
    first = await connection_of(actor, created.id)  # cached now
    assert (first.base_url, first.api_key) == ("http://127.0.0.1:9/v1", "sk-first-key")
    cached = b"".join(value for value, _expires in memory._entries.values())
    assert b"sk-first-key" not in cached  # the cache holds the key as stored: encrypted

    change = ProviderUpdate(base_url="http://127.0.0.1:10/v1", api_key="sk-second-key")
    async with session_scope() as session:
        await providers.update_provider(
            session=session, actor=actor, provider_id=created.id, data=change
        )
    second = await connection_of(actor, created.id)
    assert (second.base_url, second.api_key) == ("http://127.0.0.1:10/v1", "sk-second-key")

    added_behind_the_cache = await make_provider(actor.workspace_id, "http://127.0.0.1:11/v1")
    assert (await connection_of(actor, added_behind_the_cache)).name == "fake"
    with pytest.raises(NotFound):
        await connection_of(stranger, created.id)  # another workspace's provider
    async with session_scope() as session:
        await providers.delete_provider(session=session, actor=actor, provider_id=created.id)
    with pytest.raises(NotFound):
        await connection_of(actor, created.id)


async def test_replicas_sharing_redis_see_each_others_writes() -> None:
    with redis_namespace() as prefix:
        replica_a = RedisBackend(REDIS_URL, f"{prefix}:cache:")
        replica_b = RedisBackend(REDIS_URL, f"{prefix}:cache:")
        _user, actor = await owner()
        agent = await make_agent(actor.workspace_id, "a")
        set_cache(replica_a)
        assert await run_count(actor) == 0
        set_cache(replica_b)
        async with session_scope() as session:
            await runs.create_run(
                session=session, actor=actor, data=RunCreate(agent_id=agent, input="hi")
            )
        set_cache(replica_a)
        assert await run_count(actor) == 1


async def test_a_redis_outage_serves_fresh_uncached_figures() -> None:
    set_cache(RedisBackend(closed_port_url(), "down:cache:"))
    _user, actor = await owner()
    agent = await make_agent(actor.workspace_id, "a")
    prompt = await make_prompt(actor.workspace_id, "p", ["text"], labels={"production": 1})
    assert await production_of(actor, prompt) == (1, "text")
    async with session_scope() as session:
        await runs.create_run(
            session=session, actor=actor, data=RunCreate(agent_id=agent, input="hi")
        )
    async with session_scope() as session:
        await session.exec(update(Run).values(status="succeeded"))
        await session.commit()
    async with session_scope() as session:
        summary = await metrics_summary(session=session, actor=actor)
    assert (summary.runs, summary.succeeded) == (1, 1)
