"""The editable price table: built-in prices per model, overridden per workspace."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping

from pydantic import BaseModel, Field
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core import cache
from agentplatform.core.errors import NotFound
from agentplatform.engine.providers.pricing import DEFAULT_PRICES
from agentplatform.engine.providers.pricing import ModelPrice as Price
from agentplatform.models import ModelPrice
from agentplatform.models.common import utcnow
from agentplatform.services import audit
from agentplatform.services.permissions import Actor, require


class PriceSet(BaseModel):
    """USD per million tokens for one model."""

    input_per_mtok: float = Field(ge=0, le=100_000)
    output_per_mtok: float = Field(ge=0, le=100_000)


class PricePublic(PriceSet):
    model: str
    source: str  # "default" or "workspace"


class PricesPublic(BaseModel):
    data: list[PricePublic]
    count: int


# Price edits invalidate at once in every process sharing the cache (Redis; without it there
# is one process, whose own cache is the one invalidated). The TTL only bounds memory.
PRICES_CACHE_TTL_S = 3600


def _model_key(model: str) -> str:
    return model.strip().lower()


async def _override(session: AsyncSession, actor: Actor, model: str) -> ModelPrice | None:
    query = select(ModelPrice).where(
        ModelPrice.workspace_id == actor.workspace_id, ModelPrice.model == _model_key(model)
    )
    return (await session.exec(query)).first()


async def list_prices(*, session: AsyncSession, actor: Actor) -> PricesPublic:
    """The effective table: defaults, with the workspace's own prices replacing them."""
    require(actor, "providers.read")
    table = {
        name: PricePublic(model=name, source="default", **vars(price))
        for name, price in DEFAULT_PRICES.items()
    }
    rows = await session.exec(
        select(ModelPrice).where(ModelPrice.workspace_id == actor.workspace_id)
    )
    for row in rows:
        table[row.model] = PricePublic(
            model=row.model,
            source="workspace",
            input_per_mtok=row.input_per_mtok,
            output_per_mtok=row.output_per_mtok,
        )
    data = sorted(table.values(), key=lambda p: p.model)
    return PricesPublic(data=data, count=len(data))


async def set_price(
    *, session: AsyncSession, actor: Actor, model: str, data: PriceSet
) -> PricePublic:
    """Set this workspace's price for `model` (new runs use it; past runs keep their cost)."""
    require(actor, "providers.manage")
    key = _model_key(model)
    row = await _override(session, actor, key)
    before = None if row is None else {"input": row.input_per_mtok, "output": row.output_per_mtok}
    if row is None:
        row = ModelPrice(
            workspace_id=actor.workspace_id, model=key, input_per_mtok=0, output_per_mtok=0
        )
    row.input_per_mtok = data.input_per_mtok
    row.output_per_mtok = data.output_per_mtok
    row.updated_at = utcnow()
    session.add(row)
    after = {"input": row.input_per_mtok, "output": row.output_per_mtok}
    audit.record(
        session, actor=actor, action="price.set", resource_type="price", resource_id=key,
        before=before, after=after,
    )  # fmt: skip
    await session.commit()
    await prices_changed(actor.workspace_id)
    return PricePublic(model=key, source="workspace", **data.model_dump())


async def reset_price(*, session: AsyncSession, actor: Actor, model: str) -> None:
    """Drop the workspace's price for `model`: the built-in one applies again."""
    require(actor, "providers.manage")
    row = await _override(session, actor, model)
    if row is None:
        raise NotFound(f"This workspace sets no price for '{model}'.")
    before = {"input": row.input_per_mtok, "output": row.output_per_mtok}
    await session.delete(row)
    audit.record(
        session, actor=actor, action="price.reset", resource_type="price",
        resource_id=_model_key(model), before=before,
    )  # fmt: skip
    await session.commit()
    await prices_changed(actor.workspace_id)


def _scope(workspace_id: uuid.UUID) -> str:
    return f"prices:{workspace_id}"


async def prices_changed(workspace_id: uuid.UUID) -> None:
    """The workspace's prices changed: forget its cached table."""
    await cache.invalidate(_scope(workspace_id))


def _decode_custom(raw: bytes) -> dict[str, Price]:
    """A cached table; anything unreadable is a ValueError (the cache then loads afresh)."""
    try:
        rows = json.loads(raw)
        return {model: Price(float(i), float(o)) for model, (i, o) in rows.items()}
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"not a price table: {exc}") from exc


async def price_table(session: AsyncSession, workspace_id: uuid.UUID) -> Mapping[str, Price]:
    """The prices a run of the workspace pays: the defaults overlaid with the workspace's
    own. Cached (every run start reads it); `set_price` and `reset_price` invalidate it."""

    async def load() -> dict[str, Price]:
        query = select(ModelPrice).where(ModelPrice.workspace_id == workspace_id)
        rows = (await session.exec(query)).all()
        return {row.model: Price(row.input_per_mtok, row.output_per_mtok) for row in rows}

    custom = await cache.cached(
        _scope(workspace_id),
        "table",
        ttl_s=PRICES_CACHE_TTL_S,
        load=load,
        encode=lambda table: json.dumps(
            {model: [p.input_per_mtok, p.output_per_mtok] for model, p in table.items()}
        ).encode(),
        decode=_decode_custom,
    )
    return {**DEFAULT_PRICES, **custom}
