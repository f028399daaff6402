"""The team builder: members dragged from the workspace's agents, strategy, termination."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, NotFound, PreconditionFailed, Unauthenticated
from agentplatform.models.team import TeamCreate, TeamPublic, TeamUpdate, Termination
from agentplatform.services import agents, teams
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.ui import routes
from agentplatform.ui.components.dnd import DndContainer, DndMove, DndRemove
from agentplatform.ui.components.team_panel import (
    MemberChip,
    TeamRow,
    initials,
    termination_summary,
    updated_label,
)
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast

MAX_MEMBERS = 20
NO_AGGREGATOR = "none"
TEXT_FIELDS = frozenset({"name", "description", "tags_text"})
# Termination inputs: how each parses, and what to say when it does not.
LIMITS: dict[str, tuple[type, str]] = {
    "max_turns": (int, "Enter a whole number of turns from 1 to 200."),
    "stop_phrase": (str, "Use at most 200 characters, or leave it empty."),
    "max_total_tokens": (int, "Enter a whole number of tokens, 1 to 2 billion, or leave it empty."),
    "max_cost_usd": (float, "Enter an amount above 0 and up to 1,000,000 USD, or leave it empty."),
    "max_seconds": (float, "Enter seconds above 0 and up to 86,400 (one day), or leave it empty."),
}  # fmt: skip
Events = EventSpec | list[EventSpec] | None
FIELD_OF = {"member_ids": "members", "selector_agent_id": "selector"}


def parse_limit(key: str, raw: str) -> tuple[Any, str]:
    """(value, "") for a valid termination input, else (None, message)."""
    kind, message = LIMITS[key]
    text = raw.strip()
    if not text:
        return None, ("Max turns is required: " + message if key == "max_turns" else "")
    try:
        value = text if kind is str else kind(text.replace(",", "").replace("_", ""))
        Termination.model_validate({key: value})
    except (ValueError, ValidationError):
        return None, message
    return value, ""


def field_of(location: Any) -> str:
    """The form field an error location (pydantic `loc` or a service `field`) points at."""
    parts = location.split(".") if isinstance(location, str) else [str(p) for p in location]
    key = parts[1] if parts[0] == "termination" and len(parts) > 1 else parts[0]
    return {"tags": "tags_text", **FIELD_OF}.get(key, key)


def _shown(value: Any) -> str:
    return "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


class TeamBuilderState(SessionState):
    """One team being created or edited."""

    loading: bool = True
    missing: str = ""
    is_new: bool = True
    heading: str = "New team"
    version: int = 0
    updated_at: str = ""
    name: str = ""
    description: str = ""
    tags_text: str = ""
    strategy: str = "sequential"
    selector_id: str = ""
    limits: dict[str, str] = {}
    member_ids: list[str] = []
    agents: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    dirty: bool = False
    saving: bool = False
    stale: str = ""
    _team_id: str = ""

    @rx.var
    def board(self) -> list[DndContainer]:
        by_id = {a["id"]: a for a in self.agents}
        return [
            {"id": "agents", "title": "Agents", "role": "palette",
             "description": "Drag an agent into the team.",
             "empty_text": "No agents in this workspace yet.",
             "items": [{"id": a["id"], "label": a["name"], "sublabel": a["model"],
                        "disabled": a["id"] in self.member_ids} for a in self.agents]},
            {"id": "members", "title": "Members", "role": "target", "sortable": True,
             "description": "Drag to reorder: first speaks first.",
             "empty_text": "Drop agents here.",
             "items": [{"id": i, "label": by_id.get(i, {}).get("name", "Unknown agent"),
                        "sublabel": f"#{n} · {by_id.get(i, {}).get('model', '')}"}
                       for n, i in enumerate(self.member_ids, start=1)]},
        ]  # fmt: skip

    @rx.var
    def member_names(self) -> list[str]:
        names = {a["id"]: a["name"] for a in self.agents}
        return [names.get(i, "Unknown agent") for i in self.member_ids]

    @rx.var
    def preview(self) -> TeamRow:
        """The list's panel for the team as it stands in the form."""
        limits = {k: parse_limit(k, self.limits.get(k, ""))[0] for k in LIMITS}
        changed = "Not saved yet" if self.is_new else "Unsaved changes" if self.dirty else ""
        return TeamRow(
            id="", href="", name=self.name.strip() or "Untitled team",
            description=self.description, strategy=self.strategy,
            members=[MemberChip(name=n, initials=initials(n)) for n in self.member_names],
            tags=self._tags(), summary=termination_summary(limits),
            updated=changed or updated_label(self.updated_at),
        )  # fmt: skip

    @rx.var
    def selector_value(self) -> str:
        return self.selector_id or (NO_AGGREGATOR if self.strategy == "parallel" else "")

    def _fill(self, team: TeamPublic | None) -> None:
        """The form from a saved team, or the defaults of a new one."""
        term = team.termination if team else Termination(stop_phrase="TERMINATE")
        self.is_new = team is None
        self._team_id = str(team.id) if team else ""
        self.heading = team.name if team else "New team"
        self.version = team.version if team else 0
        self.updated_at = team.updated_at.isoformat() if team else ""
        self.name = team.name if team else ""
        self.description = team.description if team else ""
        self.tags_text = ", ".join(team.tags) if team else ""
        self.strategy = team.strategy if team else "sequential"
        self.selector_id = str(team.selector_agent_id or "") if team else ""
        self.member_ids = [str(m.agent_id) for m in team.members] if team else []
        self.limits = {k: _shown(v) for k, v in term.model_dump().items()}
        self.errors, self.dirty, self.stale, self.missing = {}, False, "", ""

    @rx.event
    async def load(self) -> AsyncIterator[Events]:
        """`on_load`: the workspace's agents (the palette), then the team unless it is new."""
        path = self.router.url.path.rstrip("/")
        self.loading = True
        self._fill(None)
        yield None
        try:
            team_id = None if path == routes.TEAM_NEW else uuid.UUID(path.rsplit("/", 1)[-1])
            async with session_scope() as db:
                actor = await self.actor(db)
                found = await agents.list_agents(
                    session=db, actor=actor, page=Page(limit=MAX_LIMIT)
                )
                self.agents = [{"id": str(a.id), "name": a.name, "model": a.model}
                               for a in found.data]  # fmt: skip
                if team_id is not None:
                    self._fill(await teams.get_team(session=db, actor=actor, team_id=team_id))
        except Unauthenticated:
            pass
        except (ValueError, NotFound):  # a malformed id in the address, or no such team
            self.missing = "This team does not exist in this workspace, or it was deleted."
        except AppError as error:
            yield toast_error(error)
        finally:
            self.loading = False

    @rx.event
    def set_text(self, key: str, value: str) -> None:
        if key in TEXT_FIELDS:
            setattr(self, key, value)
            self.errors = {k: v for k, v in self.errors.items() if k != key}
            self.dirty = True

    @rx.event
    def set_limit(self, key: str, value: str) -> None:
        """A termination input, checked as it is typed."""
        if key in LIMITS:
            self.limits = {**self.limits, key: value}
            self.errors = {**self.errors, key: parse_limit(key, value)[1]}
            self.dirty = True

    @rx.event
    def set_strategy(self, value: str) -> None:
        self.strategy, self.dirty = value, True
        self.errors = {**self.errors, "selector": ""}

    @rx.event
    def set_selector(self, value: str) -> None:
        self.selector_id = "" if value == NO_AGGREGATOR else value
        self.errors, self.dirty = {**self.errors, "selector": ""}, True

    @rx.event
    def move_member(self, move: DndMove) -> EventSpec | None:
        """A drop on the member list: an agent added at a place, or a member moved."""
        if move["to_container"] != "members":
            return None
        ids = list(self.member_ids)
        if move["from_container"] == "members":
            ids.insert(move["to_index"], ids.pop(move["from_index"]))
        elif move["item_id"] not in ids:
            if len(ids) >= MAX_MEMBERS:
                return toast.error(f"A team has at most {MAX_MEMBERS} members.")
            ids.insert(move["to_index"], move["item_id"])
        self.member_ids, self.dirty = ids, True
        self.errors = {**self.errors, "members": ""}
        return None

    @rx.event
    def remove_member(self, removal: DndRemove) -> None:
        self.member_ids = [i for i in self.member_ids if i != removal["item_id"]]
        self.dirty = True

    def _form_errors(self) -> tuple[dict[str, Any], dict[str, str]]:
        parsed = {k: parse_limit(k, self.limits.get(k, "")) for k in LIMITS}
        errors = {k: message for k, (_, message) in parsed.items() if message}
        if not self.name.strip():
            errors["name"] = "Give the team a name."
        if not self.member_ids:
            errors["members"] = "Drag at least one agent into the team."
        if self.strategy == "selector" and not self.selector_id:
            errors["selector"] = "Pick the agent that chooses who speaks next."
        return {k: value for k, (value, _) in parsed.items()}, errors

    def _tags(self) -> list[str]:
        return [t for t in (p.strip() for p in self.tags_text.split(",")) if t]

    def _shape(self, termination: dict[str, Any]) -> TeamCreate | TeamUpdate:
        uses_selector = self.strategy in teams.USES_SELECTOR
        fields: dict[str, Any] = {
            "name": self.name, "description": self.description, "strategy": self.strategy,
            "member_ids": self.member_ids, "termination": termination,
            "selector_agent_id": self.selector_id if uses_selector and self.selector_id else None,
            "tags": self._tags(),
        }  # fmt: skip
        return TeamCreate(**fields) if self.is_new else TeamUpdate(**fields)

    def _failed(self, error: AppError) -> EventSpec:
        details = error.details if isinstance(error.details, list) else [error.details]
        self.errors = {
            **self.errors,
            **{
                field_of(d["field"]): error.message
                for d in details
                if isinstance(d, dict) and "field" in d
            },
        }
        return toast_error(error)  # fmt: skip

    @rx.event
    async def save(self) -> AsyncIterator[Events]:
        """Create or update; an edit sends the version it started from (stale → clear message)."""
        termination, errors = self._form_errors()
        self.errors = errors
        if errors:
            yield toast.error("Check the highlighted fields.")
            return
        try:
            data = self._shape(termination)
        except ValidationError as error:
            self.errors = {field_of(e["loc"]): str(e["msg"]) for e in error.errors()}
            yield toast.error("Check the highlighted fields.")
            return
        self.saving = True
        yield None
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                if isinstance(data, TeamCreate):
                    saved = await teams.create_team(session=db, actor=actor, data=data)
                else:
                    saved = await teams.update_team(
                        session=db, actor=actor, team_id=uuid.UUID(self._team_id), data=data,
                        expected_version=self.version,
                    )  # fmt: skip
        except Unauthenticated:
            return
        except PreconditionFailed as error:
            self.stale = error.message
            yield toast_error(error)
            return
        except AppError as error:
            yield self._failed(error)
            return
        finally:
            self.saving = False
        if self.is_new:
            yield [toast.success(f"Team “{saved.name}” created."),
                   rx.redirect(routes.team(str(saved.id)))]  # fmt: skip
            return
        self._fill(saved)
        yield toast.success(f"Team saved (version {saved.version}).")

    @rx.event
    async def delete(self) -> AsyncIterator[Events]:
        try:
            async with session_scope() as db:
                await teams.delete_team(
                    session=db, actor=await self.actor(db), team_id=uuid.UUID(self._team_id),
                    expected_version=self.version,
                )  # fmt: skip
        except Unauthenticated:
            return
        except PreconditionFailed as error:
            self.stale = error.message
            yield toast_error(error)
            return
        except AppError as error:
            yield toast_error(error)
            return
        yield [toast.success(f"Team “{self.heading}” deleted."), rx.redirect(routes.TEAMS)]
