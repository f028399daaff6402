"""One prompt's page: the prompt, its version history and labels; the feature tabs build on it.

`PromptDiffState`, `PromptEditorState`, `PromptRenderState` and `PromptLabelsState` subclass
this state, so they read `prompt`, `versions` and `labels` and call `_reload` after a change.
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from reflex.event import EventSpec
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, NotFound, PermissionDenied, Unauthenticated
from agentplatform.services import prompt_versions, prompts, workspaces
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.services.permissions import Actor
from agentplatform.ui.state.prompt_format import PRODUCTION, ago, label_list, stamp, version_row
from agentplatform.ui.state.session import SessionState, toast_error


class PromptDetailState(SessionState):
    """The prompt shown at /prompts/[prompt_id], newest version first."""

    prompt: dict[str, Any] = {}
    labels: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    loading: bool = True
    missing: str = ""
    tab: str = "history"
    viewing: dict[str, Any] = {}
    view_open: bool = False
    _prompt_uuid: str = ""

    @rx.var
    def latest_number(self) -> int:
        return int(self.versions[0]["number"]) if self.versions else 0

    @rx.var
    def production_version(self) -> int:
        return next((int(x["version"]) for x in self.labels if x["name"] == PRODUCTION), 0)

    @rx.var
    def version_options(self) -> list[dict[str, str]]:
        """Select items: value "3", text "v3 · production, latest"."""
        options = []
        for v in self.versions:
            names = [*v["labels"], *(["latest"] if v["is_latest"] else [])]
            text = f"v{v['number']}" + (f" · {', '.join(names)}" if names else "")
            options.append({"value": str(v["number"]), "label": text})
        return options

    def _version(self, number: int) -> dict[str, Any]:
        return next((v for v in self.versions if int(v["number"]) == number), {})

    async def _authors(self, db: AsyncSession, actor: Actor) -> dict[str, str]:
        try:
            members = await workspaces.list_members(session=db, actor=actor)
        except PermissionDenied:
            return {}
        return {str(m.user_id): m.full_name or m.email for m in members.data}

    async def _reload(self, db: AsyncSession, actor: Actor) -> None:
        """Read the prompt, every version and the authors' names into state."""
        prompt_id = uuid.UUID(self._prompt_uuid)
        public = await prompts.get_prompt(session=db, actor=actor, prompt_id=prompt_id)
        rows: list[Any] = []
        while True:
            page = Page(limit=MAX_LIMIT, offset=len(rows))
            found = await prompt_versions.list_versions(
                session=db, actor=actor, prompt_id=prompt_id, page=page
            )
            rows += found.data
            if not found.data or len(rows) >= found.count:
                break
        authors = await self._authors(db, actor)
        dumped = public.model_dump(mode="json")
        self.prompt = dumped | {
            "updated": ago(dumped["updated_at"]),
            "updated_full": stamp(dumped["updated_at"]),
        }
        self.labels = label_list(public.labels)
        self.versions = [version_row(v.model_dump(mode="json"), authors) for v in rows]

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the prompt named by the URL, on the History tab."""
        self.loading = True
        self.missing = ""
        self.tab = "history"
        self.view_open = False
        self.prompt, self.labels, self.versions = {}, [], []
        raw = str(self.router.url.path).rstrip("/").rsplit("/", 1)[-1]
        try:
            self._prompt_uuid = str(uuid.UUID(raw))
        except ValueError:
            self.missing = "This address does not name a prompt."
            self.loading = False
            return None
        try:
            async with session_scope() as db:
                await self._reload(db, await self.actor(db))
        except Unauthenticated:
            return None
        except NotFound:
            self.missing = "This prompt does not exist in this workspace (or it was deleted)."
        except AppError as error:
            self.missing = error.message
            return toast_error(error)
        finally:
            self.loading = False
        return None

    @rx.event
    def set_tab(self, value: str) -> None:
        self.tab = value

    @rx.event
    def view_version(self, number: int) -> None:
        self.viewing = self._version(int(number))
        self.view_open = bool(self.viewing)

    @rx.event
    def set_view_open(self, value: bool) -> None:
        self.view_open = value
