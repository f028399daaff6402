"""The prompt repository: cards filtered by name and tag, and the "New prompt" dialog."""

from __future__ import annotations

from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Conflict, Unauthenticated
from agentplatform.models.prompt import PromptCreate, PromptVersionCreate
from agentplatform.services import prompts
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.ui import routes
from agentplatform.ui.state.prompt_format import (
    detail_fields,
    field_errors,
    prompt_card,
    split_tags,
)
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast

ALL_TAGS = "__all__"
CREATE_FIELDS = {
    "name": "name",
    "description": "description",
    "tags": "tags",
    "first_version.template": "template",
    "template": "template",
    "first_version": "template",
}


class PromptsListState(SessionState):
    """Cards of the workspace's prompts; search and tag narrow them on the server."""

    cards: list[dict[str, Any]] = []
    total: int = 0
    known_tags: list[str] = []
    search: str = ""
    tag_filter: str = ALL_TAGS
    loading: bool = True
    new_open: bool = False
    new_errors: dict[str, str] = {}
    creating: bool = False

    @rx.var
    def filtered(self) -> bool:
        return self.search.strip() != "" or self.tag_filter != ALL_TAGS

    @rx.var
    def more_than_shown(self) -> bool:
        return self.total > len(self.cards)

    async def _fetch(self) -> EventSpec | None:
        page = Page(
            limit=MAX_LIMIT,
            q=self.search.strip() or None,
            tag=None if self.tag_filter == ALL_TAGS else self.tag_filter,
        )
        try:
            async with session_scope() as db:
                found = await prompts.list_prompts(
                    session=db, actor=await self.actor(db), page=page
                )
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        self.cards = [prompt_card(p.model_dump(mode="json")) for p in found.data]
        self.total = found.count
        if not self.filtered:
            self.known_tags = sorted({t for card in self.cards for t in card["tags"]})
        return None

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: every visit starts unfiltered."""
        self.loading = True
        self.search = ""
        self.tag_filter = ALL_TAGS
        self.new_open = False
        return await self._fetch()

    @rx.event
    async def set_search(self, value: str) -> EventSpec | None:
        self.search = value[:100]
        return await self._fetch()

    @rx.event
    async def set_tag_filter(self, value: str) -> EventSpec | None:
        self.tag_filter = value or ALL_TAGS
        return await self._fetch()

    @rx.event
    async def clear_filters(self) -> EventSpec | None:
        self.search = ""
        self.tag_filter = ALL_TAGS
        return await self._fetch()

    @rx.event
    def set_new_open(self, value: bool) -> None:
        self.new_open = value
        self.new_errors = {}

    @rx.event
    async def create(self, form: dict[str, Any]) -> EventSpec | list[EventSpec] | None:
        """Create the prompt (with v1 when a template is given) and open its page."""
        template = str(form.get("template", ""))
        if not str(form.get("name", "")).strip():
            self.new_errors = {"name": "Give the prompt a name."}
            return None
        try:
            data = PromptCreate(
                name=str(form.get("name", "")),
                description=str(form.get("description", "")),
                tags=split_tags(str(form.get("tags", ""))),
                first_version=PromptVersionCreate(template=template, commit_message="First version")
                if template.strip()
                else None,
            )
        except ValidationError as error:
            self.new_errors = field_errors(error, CREATE_FIELDS)
            return None
        self.creating = True
        try:
            async with session_scope() as db:
                created = await prompts.create_prompt(
                    session=db, actor=await self.actor(db), data=data
                )
        except Unauthenticated:
            return None
        except Conflict as error:
            self.new_errors = {"name": error.message}
            return None
        except AppError as error:
            self.new_errors = detail_fields(error, {"template": "template", "name": "name"})
            return None if self.new_errors else toast_error(error)
        finally:
            self.creating = False
        self.new_errors = {}
        self.new_open = False
        return [
            toast.success(f"Prompt '{created.name}' created."),
            rx.redirect(routes.prompt(str(created.id))),
        ]
