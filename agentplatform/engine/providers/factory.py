"""Build a provider from its stored settings, and check that it answers."""

from __future__ import annotations

import asyncio
import importlib
import time
from dataclasses import dataclass
from typing import Any

from agentplatform.core.errors import AppError, ValidationFailed
from agentplatform.engine.providers.base import ChatMessage, Provider

PROVIDER_KINDS = ("openai", "anthropic", "ollama", "offline")
DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "ollama": "http://localhost:11434/v1",
}


def build_provider(
    kind: str,
    *,
    model: str,
    base_url: str | None = None,
    api_key: str | None = None,
    **opts: Any,
) -> Provider:
    """A ready provider; `opts` go to its constructor (timeout_s, max_retries, client...)."""
    if kind == "offline":
        # Imported lazily: the offline provider is optional and has no network needs.
        module = importlib.import_module("agentplatform.engine.providers.offline")
        provider: Provider = module.OfflineProvider(model=model or "offline-demo")
        return provider
    if kind not in DEFAULT_BASE_URLS:
        raise ValidationFailed(
            f"Unknown provider kind {kind!r}; choose one of: {', '.join(PROVIDER_KINDS)}"
        )
    if not model:
        raise ValidationFailed(f"A {kind} provider needs a model name")
    url = base_url or DEFAULT_BASE_URLS[kind]
    if kind == "anthropic":
        if not api_key:
            raise ValidationFailed("An Anthropic provider needs an API key")
        from agentplatform.engine.providers.anthropic import AnthropicProvider

        return AnthropicProvider(url, api_key, model, **opts)
    from agentplatform.engine.providers.openai_compat import OpenAICompatibleProvider

    opts.setdefault("name", kind)
    return OpenAICompatibleProvider(url, api_key, model, **opts)


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of a connection test, worded for the settings page."""

    ok: bool
    latency_ms: float
    message: str


async def test_connection(provider: Provider, *, timeout_s: float = 20.0) -> ConnectionCheck:
    """Send a one-token "ping" and report how it went; never raises (except cancellation)."""
    label = f"{getattr(provider, 'name', provider.kind)} ({provider.model})"
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            await provider.complete([ChatMessage(role="user", content="ping")], max_tokens=1)
    except TimeoutError:
        elapsed = (time.perf_counter() - started) * 1000
        return ConnectionCheck(False, elapsed, f"{label}: no answer within {timeout_s:g} s")
    except AppError as exc:
        return ConnectionCheck(False, (time.perf_counter() - started) * 1000, exc.message)
    except Exception as exc:  # a connection test reports every failure instead of raising
        elapsed = (time.perf_counter() - started) * 1000
        return ConnectionCheck(False, elapsed, f"{label}: unexpected error: {exc!r}")
    elapsed = (time.perf_counter() - started) * 1000
    return ConnectionCheck(True, elapsed, f"Connected to {label} in {elapsed:.0f} ms")


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
