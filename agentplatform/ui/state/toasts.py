"""Notifications from event handlers, shown without `eval` (the CSP forbids it).

`rx.toast` returned by a handler reaches the page as code that Reflex evaluates; here a
handler returns ``toast.success("…")`` instead, which queues the message in `ToastState`, and
the `ServerToasts` component (an app wrap) shows it as text.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import reflex as rx
from reflex.event import EventSpec

logger = logging.getLogger("agentplatform.ui")
LEVELS = ("success", "error", "info", "warning")
QUEUE_LIMIT = 5


class ToastState(rx.State):
    """Messages waiting to be shown on this page."""

    items: list[dict[str, Any]] = []

    @rx.event
    def show(self, level: str, message: str, duration: int, close_button: bool) -> None:
        item = {
            "id": uuid.uuid4().hex,
            "level": level if level in LEVELS else "info",
            "message": message,
            "duration": duration,
            "close_button": close_button,
        }
        self.items = [*self.items[-(QUEUE_LIMIT - 1) :], item]

    @rx.event
    def shown(self, ids: list[str]) -> None:
        """The page showed these: forget them, so a reload does not show them again."""
        done = set(ids)
        self.items = [item for item in self.items if item["id"] not in done]


class _Toasts:
    """`toast.success(...)` and friends: the event that shows a message."""

    @staticmethod
    def _spec(level: str, message: str, duration: int, close_button: bool) -> EventSpec:
        return ToastState.show(level, message, duration, close_button)

    def success(
        self, message: str, *, duration: int = 4000, close_button: bool = False
    ) -> EventSpec:
        return self._spec("success", message, duration, close_button)

    def error(self, message: str, *, duration: int = 6000, close_button: bool = False) -> EventSpec:
        return self._spec("error", message, duration, close_button)

    def info(self, message: str, *, duration: int = 4000, close_button: bool = False) -> EventSpec:
        return self._spec("info", message, duration, close_button)

    def warning(
        self, message: str, *, duration: int = 6000, close_button: bool = False
    ) -> EventSpec:
        return self._spec("warning", message, duration, close_button)


toast = _Toasts()


def backend_exception_toast(exception: Exception) -> EventSpec:
    """What the page shows when an event handler fails unexpectedly (`rx.App`'s
    `backend_exception_handler`; Reflex's default sends a toast that needs `eval`)."""
    logger.error("unhandled error in a UI event handler", exc_info=exception)
    return toast.error(
        "Something went wrong on our side: try again, or reload the page.", close_button=True
    )
