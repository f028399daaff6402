"""Start-up's heap is set aside from full collections once per process."""

from __future__ import annotations

import gc

import pytest

from agentplatform.core import heap


def test_startup_heap_is_frozen_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(heap, "_frozen", False)
    try:
        heap.freeze_startup_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        later = [[] for _ in range(1000)]  # made after start-up: stays scanned
        heap.freeze_startup_heap()
        assert gc.get_freeze_count() == frozen
        assert later
    finally:
        gc.unfreeze()
