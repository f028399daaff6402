"""The render preview: a value for each variable of a version, and the text it renders to."""

from __future__ import annotations

import uuid

import reflex as rx
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated, ValidationFailed
from agentplatform.models.prompt import RenderRequest
from agentplatform.services import prompt_versions
from agentplatform.ui.state.prompt_detail import PromptDetailState
from agentplatform.ui.state.session import toast_error


class PromptRenderState(PromptDetailState):
    """Inputs per variable; blank inputs are left out, so the server names what is missing."""

    render_version: str = ""
    render_variables: list[str] = []
    render_values: dict[str, str] = {}
    rendered: str = ""
    rendered_version: int = 0
    render_error: str = ""
    rendering: bool = False

    def _choose(self, value: str) -> None:
        self.render_version = value
        version = self._version(int(value)) if value else {}
        self.render_variables = list(version.get("variables", []))
        self.render_values = {
            k: v for k, v in self.render_values.items() if k in self.render_variables
        }
        self.rendered, self.render_error = "", ""

    @rx.event
    def start(self) -> None:
        """Render the latest version by default."""
        self.render_values = {}
        self._choose(str(self.versions[0]["number"]) if self.versions else "")

    @rx.event
    def set_render_version(self, value: str) -> None:
        self._choose(value)

    @rx.event
    def set_render_value(self, name: str, value: str) -> None:
        self.render_values = self.render_values | {name: value}

    @rx.event
    async def render(self) -> EventSpec | None:
        if not self.render_version:
            return None
        values = {k: v for k, v in self.render_values.items() if v != ""}
        self.rendering = True
        try:
            data = RenderRequest(variables=values, version=int(self.render_version))
            async with session_scope() as db:
                result = await prompt_versions.render_prompt(
                    session=db,
                    actor=await self.actor(db),
                    prompt_id=uuid.UUID(self._prompt_uuid),
                    data=data,
                )
        except Unauthenticated:
            return None
        except ValidationFailed as error:
            self.rendered, self.render_error = "", error.message
            return None
        except AppError as error:
            self.rendered, self.render_error = "", error.message
            return toast_error(error)
        finally:
            self.rendering = False
        self.render_error = ""
        self.rendered = result.text
        self.rendered_version = result.version
        return None
