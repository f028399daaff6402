"""LLM providers: list, create/edit dialog (key write-only), delete, test connection."""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError
from reflex.event import EventSpec

from agentplatform.core.db import session_scope
from agentplatform.core.errors import AppError, Unauthenticated
from agentplatform.engine.providers.factory import build_provider, test_connection
from agentplatform.models.provider import ProviderCreate, ProviderPublic, ProviderUpdate
from agentplatform.services import providers
from agentplatform.services.pagination import MAX_LIMIT, Page
from agentplatform.ui.state.session import SessionState, toast_error
from agentplatform.ui.state.toasts import toast

KIND_LABELS = {"openai": "OpenAI-compatible", "anthropic": "Anthropic", "offline": "Offline"}
FIELDS = ("name", "base_url", "api_key", "models")


def _row(p: ProviderPublic) -> dict[str, Any]:
    return {
        "name": p.name,
        "kind": p.kind,
        "kind_label": KIND_LABELS.get(p.kind, p.kind),
        "base_url": p.base_url or "",
        "models": list(p.models),
        "has_key": p.has_api_key,
        "check": "",  # "", "testing", "ok", "fail"
        "check_message": "",
    }


class AdminProvidersState(SessionState):
    """The workspace's provider connections; keys are written, never read back."""

    rows: list[dict[str, Any]] = []
    loading: bool = True
    form_open: bool = False
    editing: str = ""  # the name of the provider being edited; "" for a new one
    kind: str = "openai"
    errors: dict[str, str] = {}
    form_error: str = ""
    saving: bool = False
    delete_open: bool = False
    delete_name: str = ""
    delete_error: str = ""
    form_values: dict[str, str] = {}  # the edited provider's values; never its key
    _ids: dict[str, str] = {}
    _forms: dict[str, dict[str, str]] = {}

    @rx.var
    def can_read(self) -> bool:
        return "providers.read" in self.permissions

    @rx.var
    def can_manage(self) -> bool:
        return "providers.manage" in self.permissions

    async def _fetch(self) -> EventSpec | None:
        try:
            async with session_scope() as db:
                found = await providers.list_providers(
                    session=db, actor=await self.actor(db), page=Page(limit=MAX_LIMIT)
                )
        except Unauthenticated:
            return None
        except AppError as error:
            return toast_error(error)
        finally:
            self.loading = False
        checks = {r["name"]: (r["check"], r["check_message"]) for r in self.rows}
        self.rows = [_row(p) for p in found.data]
        for row in self.rows:
            row["check"], row["check_message"] = checks.get(row["name"], ("", ""))
        self._ids = {p.name: str(p.id) for p in found.data}
        self._forms = {
            p.name: {"name": p.name, "kind": p.kind, "base_url": p.base_url or "",
                     "models": ", ".join(p.models)}
            for p in found.data
        }  # fmt: skip
        return None

    @rx.event
    async def load(self) -> EventSpec | None:
        """`on_load`: the providers, if this role may see them."""
        if not self.can_read:
            self.loading = False
            return None
        self.loading = True
        return await self._fetch()

    @rx.event
    def open_new(self) -> None:
        self.editing, self.kind, self.errors, self.form_error = "", "openai", {}, ""
        self.form_values = {"name": "", "kind": "openai", "base_url": "", "models": ""}
        self.form_open = True

    @rx.event
    def open_edit(self, name: str) -> None:
        self.editing, self.errors, self.form_error = name, {}, ""
        self.form_values = dict(self._forms.get(name, {}))
        self.kind = self.form_values.get("kind", "openai")
        self.form_open = True

    @rx.event
    def set_form_open(self, value: bool) -> None:
        self.form_open = value

    @rx.event
    def set_kind(self, value: str) -> None:
        self.kind = value

    def _show(self, error: AppError) -> None:
        details = error.details if isinstance(error.details, list) else []
        fields = {d.get("field"): d.get("message", "") for d in details if isinstance(d, dict)}
        known = {f: error.message for f in fields if f in FIELDS}
        self.errors, self.form_error = known, "" if known else error.message

    @rx.event
    async def save(self, form: dict[str, Any]) -> EventSpec | None:
        """Create or update; a blank key on edit keeps the stored one."""
        models = [m.strip() for m in str(form.get("models", "")).split(",") if m.strip()]
        values: dict[str, Any] = {"name": form.get("name", ""), "models": models}
        url = str(form.get("base_url", "")).strip()
        if self.kind != "offline":
            values["base_url"] = url or None
        key = str(form.get("api_key", ""))
        if key or not self.editing:
            values["api_key"] = key or None
        try:
            if self.editing:
                update = ProviderUpdate(**values)
            else:
                create = ProviderCreate(kind=self.kind, **values)
        except ValidationError as error:
            self.errors = {
                str(e["loc"][0]): _field_message(str(e["loc"][0]), str(e["msg"]))
                for e in error.errors()
                if e["loc"] and str(e["loc"][0]) in FIELDS
            }
            self.form_error = "" if self.errors else str(error.errors()[0]["msg"])
            return None
        self.saving = True
        try:
            async with session_scope() as db:
                actor = await self.actor(db)
                if self.editing:
                    saved = await providers.update_provider(
                        session=db, actor=actor, provider_id=uuid.UUID(self._ids[self.editing]),
                        data=update,
                    )  # fmt: skip
                else:
                    saved = await providers.create_provider(session=db, actor=actor, data=create)
        except Unauthenticated:
            return None
        except AppError as error:
            self._show(error)
            return None
        finally:
            self.saving = False
        self.form_open, self.errors, self.form_error = False, {}, ""
        self._mark(self.editing, "", "")  # an earlier test result no longer applies
        await self._fetch()
        return toast.success(f"Provider '{saved.name}' saved.")

    @rx.event
    def ask_delete(self, name: str) -> None:
        self.delete_name, self.delete_error, self.delete_open = name, "", True

    @rx.event
    def set_delete_open(self, value: bool) -> None:
        self.delete_open = value

    @rx.event
    async def delete(self) -> EventSpec | None:
        """Delete the provider asked about; one that agents use is refused (409)."""
        provider_id = self._ids.get(self.delete_name)
        if provider_id is None:
            self.delete_open = False
            return None
        try:
            async with session_scope() as db:
                await providers.delete_provider(
                    session=db, actor=await self.actor(db), provider_id=uuid.UUID(provider_id)
                )
        except Unauthenticated:
            return None
        except AppError as error:
            self.delete_error = error.message
            return None
        self.delete_open = False
        await self._fetch()
        return toast.success(f"Provider '{self.delete_name}' deleted.")

    def _mark(self, name: str, check: str, message: str) -> None:
        self.rows = [
            {**r, "check": check, "check_message": message} if r["name"] == name else r
            for r in self.rows
        ]

    @rx.event(background=True)
    async def test(self, name: str) -> None:
        """Send a one-token ping with the stored settings; the page stays responsive."""
        async with self:
            provider_id = self._ids.get(name)
            if provider_id is None or not self.can_manage:
                return
            self._mark(name, "testing", "Testing…")
            try:
                async with session_scope() as db:
                    actor = await self.actor(db)
                    row, key = await providers.provider_secret(
                        session=db, workspace_id=actor.workspace_id,
                        provider_id=uuid.UUID(provider_id),
                    )  # fmt: skip
                    kind, base_url, models = row.kind, row.base_url, list(row.models)
            except Unauthenticated:
                self._mark(name, "", "")
                return
            except AppError as error:
                self._mark(name, "fail", error.message)
                return
        try:
            client = build_provider(
                kind, model=models[0] if models else "", base_url=base_url, api_key=key
            )
        except AppError as error:
            ok, message = False, f"{error.message}: add a model to this provider first."
        else:
            check = await test_connection(client, timeout_s=15)
            ok, message = check.ok, check.message
        async with self:
            self._mark(name, "ok" if ok else "fail", message)


def _field_message(field: str, message: str) -> str:
    """Pydantic's wording, made specific where it helps."""
    if field == "name":
        return "Give the provider a name (up to 100 characters)."
    if field == "base_url":
        return "Enter a full URL, e.g. https://api.openai.com/v1."
    if field == "models":
        return "Model names are 1-100 characters, separated by commas."
    return message
