"""The playground: pick an agent or team, give it a task and variables, watch it run."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.run import RunCreate
from agentplatform.services import agents, runs, teams
from agentplatform.services.pagination import Page
from agentplatform.services.run_variables import target_variables
from agentplatform.ui.state.run_detail import LiveRunState
from agentplatform.ui.state.session import SessionState, toast_error


class PlaygroundState(LiveRunState, SessionState):
    """The run form and the run it started."""

    target_kind: str = "agent"
    agents: list[dict[str, str]] = []
    teams: list[dict[str, str]] = []
    target_id: str = ""
    input_text: str = ""
    variable_names: list[str] = []
    prompt_sources: list[str] = []
    var_values: dict[str, str] = {}
    kv_rows: list[dict[str, str]] = []
    loading: bool = True
    starting: bool = False
    errors: dict[str, str] = {}

    @rx.var
    def targets(self) -> list[dict[str, str]]:
        return self.agents if self.target_kind == "agent" else self.teams

    @rx.event
    async def load(self) -> EventSpec | None:
        """The workspace's agents and teams; `?agent=` or `?team=` preselects one."""
        self.loading = True
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                found_agents = await agents.list_agents(
                    session=db, actor=actor, page=Page(limit=200)
                )
                found_teams = await teams.list_teams(session=db, actor=actor, page=Page(limit=200))
        except Unauthenticated:
            return None
        except AppError as error:
            self.loading = False
            return toast_error(error)
        self.agents = [
            {"id": str(a.id), "name": a.name, "detail": a.model} for a in found_agents.data
        ]
        self.teams = [
            {"id": str(t.id), "name": t.name, "detail": f"{t.strategy}, {len(t.members)} members"}
            for t in found_teams.data
        ]
        query = self.router.url.query_parameters
        if query.get("team"):
            self.target_kind, self.target_id = "team", str(query["team"])
        elif query.get("agent"):
            self.target_kind, self.target_id = "agent", str(query["agent"])
        if self.target_id not in {t["id"] for t in self.targets}:
            self.target_id = self.targets[0]["id"] if self.targets else ""
        self.loading = False
        return await self._load_variables()

    async def _load_variables(self) -> EventSpec | None:
        self.variable_names, self.prompt_sources, self.errors = [], [], {}
        if not self.target_id:
            return None
        key = "agent_id" if self.target_kind == "agent" else "team_id"
        try:
            async with session_scope() as db:
                found = await target_variables(
                    session=db, actor=await self.actor(db), **{key: uuid.UUID(self.target_id)}
                )
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        self.variable_names, self.prompt_sources = found.variables, found.prompts
        self.var_values = {n: self.var_values.get(n, "") for n in found.variables}
        return None

    @rx.event
    async def set_target_kind(self, value: str | list[str]) -> EventSpec | None:
        kind = value if isinstance(value, str) else "".join(value[:1])
        if kind not in ("agent", "team") or kind == self.target_kind:
            return None
        self.target_kind = kind
        self.target_id = self.targets[0]["id"] if self.targets else ""
        return await self._load_variables()

    @rx.event
    async def set_target(self, target_id: str) -> EventSpec | None:
        self.target_id = target_id
        return await self._load_variables()

    @rx.event
    def set_input(self, value: str) -> None:
        self.input_text = value
        self.errors = {k: v for k, v in self.errors.items() if k != "input"}

    @rx.event
    def set_var(self, name: str, value: str) -> None:
        self.var_values = {**self.var_values, name: value}

    @rx.event
    def add_kv(self) -> None:
        self.kv_rows = [*self.kv_rows, {"key": "", "value": ""}]

    @rx.event
    def set_kv(self, index: int, part: str, value: str) -> None:
        rows = [dict(r) for r in self.kv_rows]
        if 0 <= index < len(rows) and part in ("key", "value"):
            rows[index][part] = value
            self.kv_rows = rows

    @rx.event
    def remove_kv(self, index: int) -> None:
        self.kv_rows = [r for i, r in enumerate(self.kv_rows) if i != index]

    def _variables(self) -> dict[str, str]:
        if self.variable_names:
            return {n: self.var_values.get(n, "") for n in self.variable_names}
        return {r["key"].strip(): r["value"] for r in self.kv_rows if r["key"].strip()}

    def _field_errors(self, error: ValidationError) -> dict[str, str]:
        found: dict[str, str] = {}
        for problem in error.errors():
            loc = [str(p) for p in problem["loc"]]
            key = loc[0] if loc and loc[0] in ("input", "variables") else "target"
            found.setdefault(key, str(problem["msg"]).removeprefix("Value error, "))
        return found

    @rx.event
    async def start(self) -> EventSpec | list[Any] | None:
        """Create the run and follow it live."""
        if not self.input_text.strip():
            self.errors = {"input": "Write the task for the run."}
            return None
        key = "agent_id" if self.target_kind == "agent" else "team_id"
        try:
            data = RunCreate(
                input=self.input_text,
                variables=self._variables(),
                **{key: self.target_id or None},
            )
        except ValidationError as error:
            self.errors = self._field_errors(error)
            return None
        self.starting, self.errors = True, {}
        try:
            async with session_scope() as db:
                run = await runs.create_run(session=db, actor=await self.actor(db), data=data)
        except Unauthenticated:
            return None
        except AppError as error:
            self.errors = {"run": error.message}
            return toast_error(error)
        finally:
            self.starting = False
        self._show(run)
        self.steps, self.live, self._follow_id = [], [], ""
        return PlaygroundState.follow
