"""Cost from the price table: exact, dated and prefixed model names, overrides."""

from __future__ import annotations

import pytest

from agentplatform.engine.providers.base import Usage
from agentplatform.engine.providers.pricing import (
    DEFAULT_PRICES,
    ModelPrice,
    cost_usd,
    estimate_tokens,
    is_priced,
    price_for,
)

MILLION = Usage(input_tokens=1_000_000, output_tokens=1_000_000)


def test_cost_of_a_known_model() -> None:
    assert cost_usd("gpt-4o", MILLION) == pytest.approx(12.50)
    assert cost_usd("gpt-4o-mini", Usage(2000, 500)) == pytest.approx(0.0006)


@pytest.mark.parametrize(
    ("model", "key"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-mini-2025-04-14", "gpt-4.1-mini"),
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet"),
        ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4"),
        ("openai/gpt-4o", "gpt-4o"),
        ("GPT-4o", "gpt-4o"),
        ("llama3.2:3b", "llama3"),
        ("offline-demo", "offline"),
    ],
)
def test_dated_and_prefixed_names_use_the_longest_matching_price(model: str, key: str) -> None:
    assert price_for(model) == DEFAULT_PRICES[key]


def test_local_and_offline_models_are_priced_at_zero() -> None:
    assert is_priced("llama3") and cost_usd("llama3:8b", MILLION) == 0.0
    assert is_priced("offline-demo") and cost_usd("offline-demo", MILLION) == 0.0


def test_unknown_model_costs_nothing_and_is_flagged() -> None:
    assert cost_usd("mystery-model-7b", MILLION) == 0.0
    assert not is_priced("mystery-model-7b")


def test_prefix_only_matches_at_a_name_boundary() -> None:
    table = {"gpt-4": ModelPrice(30, 60)}
    assert not is_priced("gpt-4o", table)
    assert is_priced("gpt-4-0613", table)


def test_override_table_replaces_the_defaults() -> None:
    table = {"my-model": ModelPrice(1.0, 2.0)}
    assert cost_usd("my-model-v2", MILLION, table) == pytest.approx(3.0)
    assert not is_priced("gpt-4o", table)
    layered = {**DEFAULT_PRICES, "gpt-4o": ModelPrice(1.0, 1.0)}
    assert cost_usd("gpt-4o", MILLION, layered) == pytest.approx(2.0)


def test_token_estimate_is_about_four_characters_per_token() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 25) == 25
    assert estimate_tokens("abc") == 1
