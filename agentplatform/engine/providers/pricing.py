"""Model prices (USD per million tokens) and the cost of one call's token usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from agentplatform.engine.providers.base import Usage


@dataclass(frozen=True)
class ModelPrice:
    """What one million input and output tokens cost, in USD."""

    input_per_mtok: float
    output_per_mtok: float


FREE = ModelPrice(0.0, 0.0)

# Public list prices; the DB copy of this table is what admins edit.
DEFAULT_PRICES: Mapping[str, ModelPrice] = MappingProxyType(
    {
        "gpt-4o": ModelPrice(2.50, 10.00),
        "gpt-4o-mini": ModelPrice(0.15, 0.60),
        "gpt-4.1": ModelPrice(2.00, 8.00),
        "gpt-4.1-mini": ModelPrice(0.40, 1.60),
        "gpt-4.1-nano": ModelPrice(0.10, 0.40),
        "o3-mini": ModelPrice(1.10, 4.40),
        "o4-mini": ModelPrice(1.10, 4.40),
        "claude-3-5-sonnet": ModelPrice(3.00, 15.00),
        "claude-3-5-haiku": ModelPrice(0.80, 4.00),
        "claude-3-7-sonnet": ModelPrice(3.00, 15.00),
        "claude-sonnet-4": ModelPrice(3.00, 15.00),
        "claude-opus-4": ModelPrice(15.00, 75.00),
        "llama3": FREE,
        "offline": FREE,
    }
)

# A price key matches a longer model name only at one of these boundaries, so that
# "gpt-4o-2024-08-06" is priced as "gpt-4o" but "gpt-4o" is never priced as "gpt-4".
_BOUNDARIES = "-:@._"


def _lookup(name: str, table: Mapping[str, ModelPrice]) -> ModelPrice | None:
    """Exact match, else the longest key that is a prefix of `name` at a boundary."""
    lowered = {key.lower(): price for key, price in table.items()}
    if name in lowered:
        return lowered[name]
    matches = [
        (len(key), price)
        for key, price in lowered.items()
        if key and name.startswith(key) and name[len(key)] in _BOUNDARIES
    ]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def price_for(model: str, table: Mapping[str, ModelPrice] | None = None) -> ModelPrice | None:
    """The price of `model` (dated and `vendor/`-prefixed names included), or None."""
    prices = DEFAULT_PRICES if table is None else table
    name = model.strip().lower()
    found = _lookup(name, prices)
    if found is None and "/" in name:
        found = _lookup(name.rsplit("/", 1)[1], prices)
    return found


def is_priced(model: str, table: Mapping[str, ModelPrice] | None = None) -> bool:
    """Whether `model` has a price; unpriced models cost 0.0 and the UI should say so."""
    return price_for(model, table) is not None


def cost_usd(model: str, usage: Usage, table: Mapping[str, ModelPrice] | None = None) -> float:
    """USD cost of `usage` on `model`; `table` replaces the defaults (unknown model: 0.0).

    To layer custom prices over the defaults pass `{**DEFAULT_PRICES, **custom}`.
    """
    price = price_for(model, table)
    if price is None:
        return 0.0
    return (
        usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok
    ) / 1_000_000


def estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters per token) for servers that report no usage."""
    return (len(text) + 3) // 4
