"""The editor's "Try it" panel: run the saved agent on a message and follow the run live."""

from __future__ import annotations

import json
import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core import logging as log_context
from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Conflict, Unauthenticated
from agentplatform.models.run import RunCreate, RunPublic, RunStepPublic
from agentplatform.services import runs
from agentplatform.services.run_events import StreamEvent, open_run_stream
from agentplatform.ui import routes
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast

TEXT_MAX = 1200  # characters of a step shown inline; the run page has the full text


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_MAX else text[:TEXT_MAX] + "…"


def step_row(step: RunStepPublic) -> dict[str, Any]:
    """One trace step, compact: what happened, its text, and its numbers."""
    tool = step.tool_name or ""
    title, text = {
        "message": (step.agent_name or "Assistant", step.content),
        "tool_call": (f"Tool call · {tool}", json.dumps(step.tool_args or {}, ensure_ascii=False)),
        "tool_result": (f"Tool result · {tool}", step.content),
        "handoff": ("Handoff", step.content),
        "error": ("Error", step.content),
    }.get(step.kind, (step.kind, step.content))
    meta = []
    if step.input_tokens or step.output_tokens:
        meta.append(f"{step.input_tokens} in / {step.output_tokens} out tokens")
    if step.latency_ms is not None:
        meta.append(f"{step.latency_ms:.0f} ms")
    return {"seq": step.seq, "kind": step.kind, "title": title, "text": _clip(text or "—"),
            "meta": " · ".join(meta)}  # fmt: skip


def usage_text(run: RunPublic) -> list[str]:
    """Tokens, cost and latency of a finished run."""
    latency = f"{run.latency_ms:.0f} ms" if run.latency_ms is not None else "—"
    return [
        f"{run.input_tokens} in / {run.output_tokens} out tokens",
        f"${run.cost_usd:.4f}",
        latency,
    ]


class AgentTryState(SessionState):
    """The panel's run: live answer, steps, status, usage; one run at a time."""

    running: bool = False
    run_id: str = ""
    status: str = ""
    answer: str = ""
    steps: list[dict[str, Any]] = []
    usage: list[str] = []
    error: str = ""
    input_error: str = ""
    _generation: int = 0

    @rx.var
    def can_run(self) -> bool:
        return "runs.create" in self.permissions

    @rx.var
    def can_cancel(self) -> bool:
        return "runs.cancel" in self.permissions

    @rx.var
    def run_link(self) -> str:
        return routes.run(self.run_id) if self.run_id else ""

    def _reset_panel(self) -> None:
        self._generation += 1  # a run still streaming stops writing here
        self.running, self.run_id, self.status, self.answer = False, "", "", ""
        self.steps, self.usage, self.error, self.input_error = [], [], "", ""

    @rx.event
    def reset_panel(self) -> None:
        """`on_load` of the editor: a fresh panel for this agent."""
        self._reset_panel()

    def _apply(self, event: StreamEvent) -> None:
        if event.kind == "delta" and event.delta is not None:
            self.status = "running"
            self.answer += event.delta.text or ""
        elif event.kind == "step" and event.step is not None:
            self.status = "running"
            self.steps.append(step_row(event.step))
            if event.step.kind == "message":
                self.answer = ""  # that text is in the step now; new live text follows
        elif event.kind == "status" and event.run is not None:
            self.status = event.run.status
            self.answer = event.run.output or ""
            self.error = event.run.error or ""
            self.usage = usage_text(event.run)
            self.running = False

    @rx.event(background=True)
    async def run(self, form: dict[str, Any]) -> Any:
        """Start a run of this page's agent and follow its events until it finishes."""
        async with self:
            if self.running:
                return None
            text = str(form.get("message", "")).strip()
            if not text:
                self.input_error = "Type a message for the agent."
                return None
            self._reset_panel()
            generation = self._generation
            self.running, self.status = True, "queued"
            correlation = log_context.correlation_id.get() or f"ui-{uuid.uuid4().hex[:16]}"
            try:
                agent_id = uuid.UUID(self.router.url.path.rstrip("/").rsplit("/", 1)[-1])
                async with session_scope() as db:
                    actor = await self.actor(db)
                    data = RunCreate(agent_id=agent_id, input=text)
                    run = await runs.create_run(
                        session=db, actor=actor, data=data, correlation_id=correlation
                    )
                    stream = await open_run_stream(session=db, actor=actor, run_id=run.id)
            except Unauthenticated:
                self.running = False
                return None
            except (ValidationError, ValueError):
                self.running, self.status = False, ""
                self.input_error = "The message is too long or this agent cannot be run."
                return None
            except AppError as error:
                self.running, self.status, self.error = False, "", error.message
                return toast_error(error)
            self.run_id = str(run.id)
        async for event in stream:
            async with self:
                if self._generation != generation:
                    break
                self._apply(event)
        async with self:
            if self._generation == generation:
                self.running = False
        return None

    @rx.event
    async def cancel(self) -> EventSpec | None:
        """Ask the run to stop; the stream then reports it cancelled."""
        if not self.running or not self.run_id:
            return None
        try:
            async with session_scope() as db:
                await runs.cancel_run(
                    session=db, actor=await self.actor(db), run_id=uuid.UUID(self.run_id)
                )
        except Unauthenticated:
            return None
        except Conflict:
            return None  # it finished meanwhile: the stream shows how
        except AppError as error:
            return toast_error(error)
        return toast.info("Cancelling the run…")
