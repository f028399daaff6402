"""The agent editor: load, edit, validate, save (optimistic concurrency) and delete an agent."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import (
    AppError,
    NotFound,
    PreconditionFailed,
    Unauthenticated,
)
from agentplatform.models.agent import AgentCreate, AgentPublic, AgentUpdate
from agentplatform.services import agent_catalog, agents, prompts, providers
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.ui import routes
from agentplatform.ui.components.dnd import DndContainer, DndMove, DndRemove
from agentplatform.ui.state import agent_form
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast

STALE = "Someone else changed this agent while you were editing it. Reload to see their version."


class AgentEditorState(SessionState):
    """One agent's form (new or saved), its options, and the save/delete flow."""

    form: dict[str, str] = dict(agent_form.BLANK)
    tools: list[str] = []
    errors: dict[str, str] = {}
    providers: list[dict[str, Any]] = []
    prompts: list[dict[str, Any]] = []
    catalog: list[dict[str, Any]] = []
    saved_name: str = ""
    is_saved: bool = False
    loading: bool = True
    missing: bool = False
    saving: bool = False
    stale: bool = False
    delete_open: bool = False
    delete_error: str = ""
    deleting: bool = False
    _agent_id: str = ""
    _version: int = 0

    @rx.var
    def can_write(self) -> bool:
        return "agents.write" in self.permissions

    @rx.var
    def model_choices(self) -> list[str]:
        return agent_form.model_options(self.providers, self.form.get("provider", ""))

    @rx.var
    def offline_selected(self) -> bool:
        chosen = self.form.get("provider", "")
        kinds = {p["id"]: p["kind"] for p in self.providers}
        return chosen == agent_form.BUILTIN or kinds.get(chosen) == "offline"

    @rx.var
    def provider_label(self) -> str:
        return agent_form.provider_label(self.providers, self.form.get("provider", ""))

    @rx.var
    def prompt_text(self) -> str:
        """The prompt reference in words (read-only view)."""
        return agent_form.prompt_text(self.prompts, self.form)

    @rx.var
    def label_options(self) -> list[dict[str, str]]:
        return agent_form.prompt_refs(self.prompts, self.form.get("prompt_id", ""))[0]

    @rx.var
    def version_options(self) -> list[dict[str, str]]:
        return agent_form.prompt_refs(self.prompts, self.form.get("prompt_id", ""))[1]

    @rx.var
    def tool_board(self) -> list[DndContainer]:
        return agent_form.tool_board(self.catalog, self.tools)

    def _show(self, agent: AgentPublic) -> None:
        data = agent.model_dump(mode="json")
        self.form = agent_form.form_from_agent(data)
        self.tools = list(data["tools"])
        self.saved_name = data["name"]
        self.is_saved = True
        self._agent_id = data["id"]
        self._version = agent.version

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the options, and the agent named by the URL (or a blank form)."""
        self.loading, self.missing, self.stale, self.errors = True, False, False, {}
        self.form, self.tools, self.is_saved, self.saved_name = (
            dict(agent_form.BLANK),
            [],
            False,
            "",
        )
        self._agent_id, self._version, self.delete_open = "", 0, False
        ident = self.router.url.path.rstrip("/").rsplit("/", 1)[-1]
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                page = Page(limit=MAX_LIMIT)
                found = await providers.list_providers(session=db, actor=actor, page=page)
                listed = await prompts.list_prompts(session=db, actor=actor, page=page)
                tools = await agent_catalog.list_tools(actor=actor)
                agent = None
                if ident != "new":
                    agent_id = uuid.UUID(ident)
                    agent = await agents.get_agent(session=db, actor=actor, agent_id=agent_id)
        except Unauthenticated:
            return None
        except (NotFound, ValueError):
            self.missing = True
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        self.providers = [p.model_dump(mode="json") for p in found.data]
        self.prompts = [p.model_dump(mode="json") for p in listed.data]
        self.catalog = [t.model_dump(mode="json") for t in tools]
        if agent is not None:
            self._show(agent)
        return None

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in agent_form.BLANK:
            self.form[name] = value
            self.errors.pop(name, None)

    @rx.event
    def set_provider(self, value: str) -> None:
        """A new provider: its first model, or an empty model to type in."""
        self.form["provider"] = value
        choices = agent_form.model_options(self.providers, value)
        self.form["model"] = choices[0] if choices else ""
        self.errors.pop("provider", None)
        self.errors.pop("model", None)

    @rx.event
    def set_prompt(self, value: str) -> None:
        self.form["prompt_id"] = value
        self.form["prompt_ref"] = "label:latest"
        self.errors.pop("prompt_id", None)

    @rx.event
    def move_tool(self, move: DndMove) -> None:
        if move["to_container"] == "tools" and move["item_id"] not in self.tools:
            self.tools.insert(max(0, min(move["to_index"], len(self.tools))), move["item_id"])
            self.errors.pop("tools", None)

    @rx.event
    def remove_tool(self, removal: DndRemove) -> None:
        if removal["item_id"] in self.tools:
            self.tools.remove(removal["item_id"])

    @rx.event
    async def save(self) -> EventSpec | list[EventSpec] | None:
        """Create, or update with the version we loaded (a stale one is refused)."""
        if not self.can_write:
            return None
        shape, errors = agent_form.build(self.form, self.tools, update=self.is_saved)
        self.errors = errors
        if errors:
            return toast.error("Some fields need your attention.")
        self.saving = True
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                if isinstance(shape, AgentUpdate):
                    agent = await agents.update_agent(
                        session=db, actor=actor, agent_id=uuid.UUID(self._agent_id),
                        data=shape, expected_version=self._version,
                    )  # fmt: skip
                else:
                    assert isinstance(shape, AgentCreate)
                    agent = await agents.create_agent(session=db, actor=actor, data=shape)
        except Unauthenticated:
            return None
        except PreconditionFailed:
            self.stale = True
            return toast.error(STALE, duration=8000, close_button=True)
        except AppError as error:
            self.errors = agent_form.service_errors(error)
            return toast_error(error)
        finally:
            self.saving = False
        if not self.is_saved:
            return [toast.success(f"Agent '{agent.name}' created."),
                    rx.redirect(routes.agent(str(agent.id)))]  # fmt: skip
        self._show(agent)
        return toast.success("Agent saved.")

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = value
        self.delete_error = ""

    @rx.event
    async def delete(self) -> EventSpec | list[EventSpec] | None:
        """Delete after confirmation; an agent a team uses stays, and we say which team."""
        if not self.can_write or not self._agent_id:
            return None
        self.deleting = True
        try:
            async with session_scope() as db:
                await agents.delete_agent(
                    session=db, actor=await self.actor(db),
                    agent_id=uuid.UUID(self._agent_id), expected_version=self._version,
                )  # fmt: skip
        except Unauthenticated:
            return None
        except PreconditionFailed:
            self.delete_open, self.stale = False, True
            return toast.error(STALE, duration=8000, close_button=True)
        except AppError as error:  # e.g. Conflict: a team still uses it; the dialog says so
            self.delete_error = error.message
            return None
        finally:
            self.deleting = False
        self.delete_open = False
        return [toast.success(f"Agent '{self.saved_name}' deleted."), rx.redirect(routes.AGENTS)]
