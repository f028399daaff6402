"""Labels on a prompt: promote a version to `production` (or any label) and roll back.

Only `prompts.deploy` roles see these controls; the service checks again and writes the audit.
"""

from __future__ import annotations

import uuid

import reflex as rx
from pydantic import TypeAdapter, ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, PreconditionFailed, Unauthenticated
from agentplatform.models.agent import Label
from agentplatform.services import prompt_versions
from agentplatform.ui.state.prompt_detail import PromptDetailState
from agentplatform.ui.state.prompt_format import LATEST, PRODUCTION
from agentplatform.ui.state.session import toast_error
from agentplatform.ui.state.toasts import toast

_LABEL = TypeAdapter(Label)


class PromptLabelsState(PromptDetailState):
    """The confirm dialog that moves one label to one version."""

    label_open: bool = False
    label_name: str = PRODUCTION
    label_free: bool = False  # True: the label name is typed; False: fixed to `production`
    label_target: int = 0
    label_current: int = 0  # the version the label points at now; 0 = not set yet
    label_error: str = ""
    moving: bool = False

    @rx.var
    def label_kind(self) -> str:
        """ "new", "same", "rollback" or "promote"."""
        if self.label_current == 0:
            return "new"
        if self.label_target == self.label_current:
            return "same"
        return "rollback" if self.label_target < self.label_current else "promote"

    def _current(self, name: str) -> int:
        return next((int(x["version"]) for x in self.labels if x["name"] == name), 0)

    def _open(self, number: int, name: str, free: bool) -> None:
        self.label_target = int(number)
        self.label_name = name
        self.label_free = free
        self.label_current = self._current(name)
        self.label_error = ""
        self.label_open = True

    @rx.event
    def open_production(self, number: int) -> None:
        """Promote to, or roll back, `production`."""
        self._open(number, PRODUCTION, free=False)

    @rx.event
    def open_any_label(self, number: int) -> None:
        """Point a label of the user's choice (staging, canary…) at this version."""
        self._open(number, "staging", free=True)

    @rx.event
    def set_label_name(self, value: str) -> None:
        self.label_name = value.strip().lower()
        self.label_current = self._current(self.label_name)
        self.label_error = ""

    @rx.event
    def set_label_open(self, value: bool) -> None:
        self.label_open = value

    @rx.event
    async def confirm_move(self) -> EventSpec | list[EventSpec] | None:
        name = self.label_name
        if name == LATEST:
            self.label_error = "'latest' is automatic: it always points at the highest version."
            return None
        try:
            _LABEL.validate_python(name)
        except ValidationError:
            self.label_error = (
                "Use lowercase letters, digits, '.', '_' or '-' (up to 40), e.g. 'staging'."
            )
            return None
        kind, target = self.label_kind, self.label_target
        self.moving = True
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                try:
                    await prompt_versions.move_label(
                        session=db,
                        actor=actor,
                        prompt_id=uuid.UUID(self._prompt_uuid),
                        label=name,
                        number=target,
                        expected_version=int(self.prompt.get("version", 0)) or None,
                    )
                except PreconditionFailed:
                    await db.rollback()
                    await self._reload(db, actor)
                    self.label_current = self._current(name)
                    self.label_error = "This prompt changed meanwhile: check the labels again."
                    return None
                await self._reload(db, actor)
        except Unauthenticated:
            return None
        except AppError as error:
            self.label_error = error.message
            return toast_error(error)
        finally:
            self.moving = False
        self.label_open = False
        if kind == "rollback":
            return toast.success(f"Rolled back {name} to v{target}.")
        return toast.success(f"Promoted v{target} to {name}.")
