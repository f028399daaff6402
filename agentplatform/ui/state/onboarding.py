"""Onboarding after the first sign-in: persona, model provider, an optional first agent."""

from __future__ import annotations

from typing import Any

import httpx
import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.models.agent import AgentCreate
from agentplatform.models.provider import ProviderCreate
from agentplatform.models.workspace import UserUpdateMe
from agentplatform.services import agents, providers, users
from agentplatform.ui.state.session import PERSONA_LANDING, SessionState, toast_error

OLLAMA_URL = "http://127.0.0.1:11434"
STARTERS: dict[str, dict[str, Any]] = {
    "math": {
        "name": "Math helper",
        "description": "Works out arithmetic with the calculator tool.",
        "instructions": "You are a careful math helper. Use the calculator for arithmetic "
        "and explain the result in one sentence.",
        "tools": ["calculator"],
    },
    "writer": {
        "name": "Writing assistant",
        "description": "Drafts and tightens short texts.",
        "instructions": "You are a concise writing assistant. Answer with a short, clear draft.",
        "tools": ["text_utils"],
    },
}


class OnboardingState(SessionState):
    """The three onboarding steps and their choices."""

    step: int = 1
    chosen_persona: str = "builder"
    provider_choice: str = "offline"
    provider_name: str = "My endpoint"
    provider_base_url: str = ""
    provider_api_key: str = ""
    provider_model: str = ""
    ollama_models: list[str] = []
    starter: str = "math"
    busy: bool = False
    step_error: str = ""

    @rx.event
    def set_chosen_persona(self, value: str) -> None:
        self.chosen_persona = value

    @rx.event
    def set_provider_choice(self, value: str) -> None:
        self.provider_choice = value

    @rx.event
    def set_provider_field(self, name: str, value: str) -> None:
        if name in {"provider_name", "provider_base_url", "provider_api_key", "provider_model"}:
            setattr(self, name, value)

    @rx.event
    def set_starter(self, value: str) -> None:
        self.starter = value

    @rx.event
    def back(self) -> None:
        self.step = max(1, self.step - 1)
        self.step_error = ""

    @rx.event(background=True)
    async def detect_ollama(self) -> None:
        """Offer a local Ollama when one answers on this machine."""
        try:
            async with httpx.AsyncClient(timeout=1.0) as client:
                response = await client.get(f"{OLLAMA_URL}/api/tags")
            models = [m["name"] for m in response.json().get("models", [])][:20]
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            models = []
        async with self:
            self.ollama_models = models
            if models and not self.provider_model:
                self.provider_model = models[0]

    @rx.event
    def next_step(self) -> None:
        self.step_error = ""
        self.step = min(3, self.step + 1)

    async def _create_provider(self, db: Any, actor: Any) -> str | None:
        if self.provider_choice == "offline":
            return None
        base_url = (
            f"{OLLAMA_URL}/v1" if self.provider_choice == "ollama" else self.provider_base_url
        )
        data = ProviderCreate(
            name="Local Ollama" if self.provider_choice == "ollama" else self.provider_name,
            kind="openai",
            base_url=base_url,
            api_key=self.provider_api_key or None,
            models=[self.provider_model] if self.provider_model else [],
        )
        created = await providers.create_provider(session=db, actor=actor, data=data)
        return str(created.id)

    @rx.event
    async def finish(self, create_agent: bool) -> EventSpec | None:
        """Save the persona, the provider and the starter agent, then go to the landing page."""
        self.busy = True
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                provider_id = await self._create_provider(db, actor)
                if create_agent and self.starter in STARTERS:
                    model = self.provider_model if provider_id else "offline-demo"
                    data = AgentCreate(
                        **STARTERS[self.starter], model=model, provider_id=provider_id
                    )
                    await agents.create_agent(session=db, actor=actor, data=data)
                await users.update_me(
                    session=db,
                    actor=actor,
                    data=UserUpdateMe(persona=self.chosen_persona, onboarded=True),
                )
        except Unauthenticated:
            return None
        except ValidationError as error:
            first = error.errors()[0]
            self.step_error = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
            self.step = 2
            return None
        except AppError as error:
            self.step_error = error.message
            return toast_error(error)
        finally:
            self.busy = False
        self.persona = self.chosen_persona
        self.onboarded = True
        return rx.redirect(PERSONA_LANDING.get(self.chosen_persona, "/dashboard"))

    @rx.event
    async def skip(self) -> EventSpec | None:
        """Skip onboarding; everything stays changeable in settings."""
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                await users.update_me(session=db, actor=actor, data=UserUpdateMe(onboarded=True))
        except AppError as error:
            return toast_error(error)
        self.onboarded = True
        return rx.redirect(PERSONA_LANDING.get(self.persona, "/dashboard"))
