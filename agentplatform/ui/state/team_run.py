"""Running the saved team from its builder page, then following the run on its own page."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import reflex as rx
from pydantic import ValidationError

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.run import RunCreate
from agentplatform.services import runs
from agentplatform.ui import routes
from agentplatform.ui.state.session import toast_error
from agentplatform.ui.state.team_builder import Events, TeamBuilderState
from agentplatform.ui.state.toasts import toast


class TeamRunState(TeamBuilderState):
    """The task typed for the team, and starting its run."""

    task: str = ""
    task_error: str = ""
    starting: bool = False

    @rx.event
    def clear(self) -> None:
        """`on_load`: every team page starts with an empty task."""
        self.task, self.task_error, self.starting = "", "", False

    @rx.event
    def set_task(self, value: str) -> None:
        self.task, self.task_error = value, ""

    @rx.event
    async def start_run(self) -> AsyncIterator[Events]:
        """Queue a run of the saved team on the task and open the run page."""
        try:
            if not self.task.strip():
                raise ValueError("empty task")
            data = RunCreate(team_id=uuid.UUID(self._team_id), input=self.task)
        except (ValueError, ValidationError):  # ValidationError is a ValueError too
            self.task_error = "Describe the task for the team, in up to 100,000 characters."
            return
        self.starting = True
        yield None
        try:
            async with session_scope() as db:
                run = await runs.create_run(session=db, actor=await self.actor(db), data=data)
        except Unauthenticated:
            return
        except AppError as error:
            self.task_error = error.message
            yield toast_error(error)
            return
        finally:
            self.starting = False
        yield [toast.success("Run started."), rx.redirect(routes.run(str(run.id)))]
