"""A run as it happens: its header, its trace growing live, cancel and run again.

`LiveRunState` is a mixin shared by the playground and the run page: each gets its own copy
of the run, its steps and the live text, and the background `follow` that fills them.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from typing import Any

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, NotFound, Unauthenticated
from agentplatform.models.run import TERMINAL_STATUSES, RunCreate, RunPublic
from agentplatform.services import prompts, runs
from agentplatform.services.run_live import follow_run
from agentplatform.ui import routes
from agentplatform.ui.components.run_step import (
    format_cost,
    format_ms,
    format_time,
    format_tokens,
    step_view,
)
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast

ACTIVE = ("queued", "running")


def run_view(run: RunPublic) -> dict[str, Any]:
    """The run's public fields plus the strings the header shows."""
    data = run.model_dump(mode="json")
    target = run.agent_id if run.kind == "agent" else run.team_id
    data.update(
        href=routes.run(str(run.id)),
        target_href=(routes.agent(str(target)) if run.kind == "agent" else routes.team(str(target)))
        if target
        else "",
        created=format_time(run.created_at),
        started=format_time(run.started_at),
        finished=format_time(run.finished_at),
        cost=format_cost(run.cost_usd),
        latency=format_ms(run.latency_ms),
        variables_list=[{"name": k, "value": str(v)} for k, v in run.variables.items()],
        error_text=run.error or "",
        output_text=run.output or "",
        stopped=(run.stopped_reason or "").replace("_", " "),
    )
    return data


class LiveRunState(SessionState, mixin=True):
    """One run, its steps and its live text, kept current while it runs."""

    run: dict[str, Any] = {}
    steps: list[dict[str, Any]] = []
    live: list[dict[str, str]] = []
    following: bool = False
    _follow_id: str = ""

    @rx.var
    def run_status(self) -> str:
        return str(self.run.get("status", ""))

    @rx.var
    def run_active(self) -> bool:
        return self.run.get("status") in ACTIVE

    @rx.var
    def totals(self) -> dict[str, str]:
        """Tokens, cost and latency: the run's own once finished, the steps' sum before."""
        finished = self.run.get("status") in TERMINAL_STATUSES
        source: list[dict[str, Any]] = [self.run] if finished else self.steps
        tokens_in = sum(int(s.get("input_tokens") or 0) for s in source)
        tokens_out = sum(int(s.get("output_tokens") or 0) for s in source)
        cost = sum(float(s.get("cost_usd") or 0) for s in source)
        return {
            "tokens_in": format_tokens(tokens_in),
            "tokens_out": format_tokens(tokens_out),
            "cost": format_cost(cost),
            "latency": format_ms(self.run.get("latency_ms")) if finished else "…",
            "steps": str(len(self.steps)),
        }

    @rx.var
    def agent_rows(self) -> list[dict[str, str]]:
        """Per-agent totals from the trace, with team turns once the run has finished."""
        rows: dict[str, dict[str, Any]] = {}
        for step in self.steps:
            row = rows.setdefault(step["agent"], {"in": 0, "out": 0, "cost": 0.0, "steps": 0})
            row["in"] += step.get("input_tokens") or 0
            row["out"] += step.get("output_tokens") or 0
            row["cost"] += step.get("cost_usd") or 0.0
            row["steps"] += 1
        turns = {v.get("name"): v.get("turns") for v in (self.run.get("per_agent") or {}).values()}
        return [
            {
                "agent": name,
                "steps": str(row["steps"]),
                "turns": str(turns[name]) if turns.get(name) is not None else "—",
                "tokens": f"{row['in']:,} in · {row['out']:,} out",
                "cost": format_cost(row["cost"]),
            }
            for name, row in rows.items()
        ]

    def _show(self, run: RunPublic) -> None:
        self.run = run_view(run)

    def _apply_text(self, text: dict[str, str]) -> None:
        live = {entry["agent"]: entry["text"] for entry in self.live}
        for agent, chunk in text.items():
            live[agent or "Run"] = live.get(agent or "Run", "") + chunk
        self.live = [{"agent": a, "text": t} for a, t in live.items()]

    @rx.event(background=True)
    async def follow(self) -> AsyncGenerator[EventSpec | None, None]:
        """Stream the run's new steps and status into this page until it finishes."""
        failure: AppError | None = None
        async with self:
            run_id = str(self.run.get("id", ""))
            if not run_id or self.run.get("status") not in ACTIVE:
                return
            self._follow_id, self.following = run_id, True
            after = max((int(s["seq"]) for s in self.steps), default=0)
            try:
                async with session_scope() as db:
                    batches = await follow_run(
                        session=db,
                        actor=await self.actor(db),
                        run_id=uuid.UUID(run_id),
                        after_seq=after,
                        status=str(self.run.get("status")),
                    )
            except AppError as error:
                self.following, failure = False, error
        if failure is not None:
            if not isinstance(failure, Unauthenticated):
                yield toast_error(failure)
            return
        async for batch in batches:
            async with self:
                if self._follow_id != run_id:
                    return
                if batch.steps:
                    self.steps = self.steps + [step_view(s) for s in batch.steps]
                    spoke = {s.agent_name or "Run" for s in batch.steps if s.kind == "message"}
                    self.live = [e for e in self.live if e["agent"] not in spoke]
                if batch.text:
                    self._apply_text(batch.text)
                if batch.run is not None:
                    self._show(batch.run)
        async with self:
            if self._follow_id == run_id:
                self.following, self.live = False, []

    @rx.event
    async def cancel(self) -> EventSpec | None:
        """Ask the run to stop; the live stream shows when it has."""
        try:
            async with session_scope() as db:
                run = await runs.cancel_run(
                    session=db, actor=await self.actor(db), run_id=uuid.UUID(self.run["id"])
                )
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        self._show(run)
        return toast.info("Cancelling the run…")


class RunDetailState(LiveRunState, SessionState):
    """The run page: `/runs/[run_id]`."""

    loading: bool = True
    missing: str = ""
    prompt_rows: list[dict[str, str]] = []
    again_busy: bool = False

    async def _prompt_rows(self, db: Any, actor: Any, used: dict[str, Any]) -> list[dict[str, str]]:
        rows = []
        for prompt_id, number in used.items():
            try:
                prompt = await prompts.get_prompt(
                    session=db, actor=actor, prompt_id=uuid.UUID(prompt_id)
                )
                name, href = prompt.name, routes.prompt(prompt_id)
            except (NotFound, ValueError):
                name, href = "(deleted prompt)", ""
            rows.append({"name": name, "version": f"v{number}", "href": href})
        return rows

    @rx.event
    async def load(self) -> EventSpec | None:
        """Read the run and its whole trace, then follow it if it is still going."""
        self.loading, self.missing, self._follow_id = True, "", ""
        self.run, self.steps, self.live, self.prompt_rows = {}, [], [], []
        raw_id = str(self.router.page.params.get("run_id", ""))
        try:
            run_id = uuid.UUID(raw_id)
            async with session_scope() as db:
                actor = await self.actor(db)
                run = await runs.get_run(session=db, actor=actor, run_id=run_id)
                steps = await runs.list_steps(session=db, actor=actor, run_id=run_id, limit=2000)
                rows = await self._prompt_rows(db, actor, run.prompt_versions)
        except ValueError:
            self.loading, self.missing = False, f"'{raw_id}' is not a run id."
            return None
        except Unauthenticated:
            return None
        except NotFound as error:
            self.loading, self.missing = False, error.message
            return None
        except AppError as error:
            self.loading = False
            return toast_error(error)
        self._show(run)
        self.steps = [step_view(s) for s in steps.data]
        self.prompt_rows, self.loading = rows, False
        return RunDetailState.follow if run.status in ACTIVE else None

    @rx.event
    async def run_again(self) -> EventSpec | None:
        """The same target, input and variables as a new run; open it."""
        self.again_busy = True
        try:
            data = RunCreate(
                agent_id=self.run.get("agent_id"),
                team_id=self.run.get("team_id"),
                input=self.run.get("input", ""),
                variables=self.run.get("variables") or {},
            )
            async with session_scope() as db:
                run = await runs.create_run(session=db, actor=await self.actor(db), data=data)
        except Unauthenticated:
            return None
        except ValueError:
            return toast.error("This run's agent or team no longer exists.")
        except AppError as error:
            return toast_error(error)
        finally:
            self.again_busy = False
        return [toast.success("Started a new run."), rx.redirect(routes.run(str(run.id)))]


__all__ = ["ACTIVE", "LiveRunState", "RunDetailState", "run_view"]
