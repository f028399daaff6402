"""Pytest fixtures for the fake LLM server (loaded via `pytest_plugins`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.fake_openai import FakeLLMServer


@pytest.fixture
def fake_openai() -> Iterator[FakeLLMServer]:
    """A fresh fake OpenAI/Anthropic server on 127.0.0.1 and a free port, per test."""
    server = FakeLLMServer().start()
    try:
        yield server
    finally:
        server.stop(wait=False)  # its port is never reused; skip the ~0.2 s join
