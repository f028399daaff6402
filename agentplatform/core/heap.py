"""The garbage collector after start-up: what start-up made (modules, the app, caches) lives as
long as the process, so it is set aside where full collections do not scan it.

Without this a full collection walks every object the imports made (hundreds of thousands)
and stops the event loop for ~100 ms, every few seconds under load: a stall for every run
and stream the process serves. Objects set aside are still freed when unreferenced; only
reference cycles among them would outlive their use, and start-up makes none worth having.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

_frozen = False


def freeze_startup_heap() -> None:
    """Collect once, then exempt every object still alive from later collections. Only the
    first call in a process does it: later objects are not start-up's, so they stay scanned."""
    global _frozen
    if _frozen:
        return
    _frozen = True
    gc.collect()
    gc.freeze()
    log.debug("%d start-up objects exempted from garbage collection", gc.get_freeze_count())
