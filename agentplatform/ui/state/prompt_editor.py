"""The editor that saves a prompt's next version (old versions never change).

Variables are detected as the template is typed, and the config JSON is checked as it changes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import (
    AppError,
    PreconditionFailed,
    Unauthenticated,
    ValidationFailed,
)
from agentplatform.models.prompt import PromptVersionCreate
from agentplatform.services import prompt_versions
from agentplatform.services.prompt_render import detect_variables
from agentplatform.ui.state.prompt_detail import PromptDetailState
from agentplatform.ui.state.prompt_diff import PromptDiffState
from agentplatform.ui.state.prompt_format import detail_fields, field_errors
from agentplatform.ui.state.prompt_render import PromptRenderState
from agentplatform.ui.state.session import toast_error
from agentplatform.ui.state.toasts import toast

FIELDS = {"template": "template", "config": "config", "commit_message": "message"}


def parse_config(text: str) -> tuple[dict[str, Any], str]:
    """The config object, or an error message naming what is wrong."""
    if not text.strip():
        return {}, ""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return {}, f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
    if not isinstance(value, dict):
        return {}, 'The config must be a JSON object, e.g. {"temperature": 0.2}.'
    return value, ""


class PromptEditorState(PromptDetailState):
    """The draft of the next version."""

    draft_template: str = ""
    draft_message: str = ""
    draft_config: str = ""
    draft_variables: list[str] = []
    editor_errors: dict[str, str] = {}
    saving: bool = False

    def _detect(self) -> None:
        errors = {k: v for k, v in self.editor_errors.items() if k != "template"}
        try:
            self.draft_variables = detect_variables(self.draft_template)
        except ValidationFailed as error:
            errors["template"] = error.message
        self.editor_errors = errors

    @rx.event
    def start(self) -> None:
        """Start from the latest version (or an empty draft when there is none)."""
        latest = self.versions[0] if self.versions else {}
        self.draft_template = str(latest.get("template", ""))
        self.draft_config = str(latest.get("config_json", ""))
        self.draft_message = ""
        self.editor_errors = {}
        self._detect()

    @rx.event
    def set_draft_template(self, value: str) -> None:
        self.draft_template = value
        self._detect()

    @rx.event
    def set_draft_config(self, value: str) -> None:
        self.draft_config = value
        errors = {k: v for k, v in self.editor_errors.items() if k != "config"}
        message = parse_config(value)[1]
        self.editor_errors = errors | ({"config": message} if message else {})

    @rx.event
    def set_draft_message(self, value: str) -> None:
        self.draft_message = value
        self.editor_errors = {k: v for k, v in self.editor_errors.items() if k != "message"}

    @rx.event
    async def save(self) -> EventSpec | list[Any] | None:
        """Save the draft as version n+1; `latest` moves to it, other labels stay."""
        config, config_error = parse_config(self.draft_config)
        if config_error or not self.draft_template.strip():
            self.editor_errors = self.editor_errors | (
                {"config": config_error} if config_error else {}
            )
            if not self.draft_template.strip():
                self.editor_errors = self.editor_errors | {"template": "Write a template first."}
            return None
        try:
            data = PromptVersionCreate(
                template=self.draft_template, config=config, commit_message=self.draft_message
            )
        except ValidationError as error:
            self.editor_errors = field_errors(error, FIELDS)
            return None
        self.saving = True
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                try:
                    saved = await prompt_versions.create_version(
                        session=db,
                        actor=actor,
                        prompt_id=uuid.UUID(self._prompt_uuid),
                        data=data,
                        expected_version=int(self.prompt.get("version", 0)) or None,
                    )
                except PreconditionFailed:
                    await db.rollback()
                    await self._reload(db, actor)
                    return toast.warning(
                        "Someone changed this prompt meanwhile: the history is reloaded, "
                        "your draft is kept. Save again to make it the next version."
                    )
                await self._reload(db, actor)
        except Unauthenticated:
            return None
        except AppError as error:
            self.editor_errors = detail_fields(error, FIELDS)
            return None if self.editor_errors else toast_error(error)
        finally:
            self.saving = False
        self.draft_message = ""
        self.editor_errors = {}
        self.tab = "history"
        return [
            toast.success(f"Saved v{saved.number}."),
            PromptDiffState.start,
            PromptRenderState.start,
        ]
