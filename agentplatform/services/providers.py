"""LLM provider connections: the API key is encrypted at rest and never leaves the server."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import Conflict, NotFound, ValidationFailed
from agentplatform.core.security import encrypt_field
from agentplatform.models import Agent, Provider
from agentplatform.models.common import utcnow
from agentplatform.models.provider import (
    ProviderCreate,
    ProviderPublic,
    ProvidersPublic,
    ProviderUpdate,
)
from agentplatform.services import audit
from agentplatform.services.pagination import (
    Page,
    apply_filters,
    by_name,
    changes,
    check_version,
    commit_unique,
    ensure_name_free,
    paginate,
)
from agentplatform.services.permissions import Actor, require
from agentplatform.services.provider_connections import decrypt_key, providers_changed

ANTHROPIC_BASE_URL = "https://api.anthropic.com"
BASE_URL_MAX = 500


def to_public(provider: Provider) -> ProviderPublic:
    """The shown form: `has_api_key` instead of the key."""
    public = ProviderPublic(
        id=provider.id,
        name=provider.name,
        kind=provider.kind,  # type: ignore[arg-type]
        base_url=provider.base_url,
        has_api_key=bool(provider.api_key_encrypted),
        models=list(provider.models),
        version=provider.version,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )
    return public


async def load_provider(
    session: AsyncSession, workspace_id: uuid.UUID, provider_id: uuid.UUID, *, lock: bool = False
) -> Provider:
    """The provider in this workspace, or 404 (another workspace's provider is 404 too)."""
    query = select(Provider).where(
        Provider.id == provider_id, Provider.workspace_id == workspace_id
    )
    if lock:
        query = query.with_for_update()
    provider = (await session.exec(query)).first()
    if provider is None:
        raise NotFound(f"No provider {provider_id} in this workspace.")
    return provider


def _base_url(kind: str, base_url: str | None) -> str | None:
    """The stored base URL for `kind`: required for openai, defaulted for anthropic."""
    if kind == "offline":
        if base_url:
            raise ValidationFailed(
                "The offline provider runs in-process: it takes no base_url.",
                details=[{"field": "base_url", "message": "not allowed for kind 'offline'"}],
            )
        return None
    if kind == "openai" and not base_url:
        raise ValidationFailed(
            "An OpenAI-compatible provider needs a base_url, e.g. https://api.openai.com/v1 "
            "or http://localhost:11434/v1 for Ollama.",
            details=[{"field": "base_url", "message": "required for kind 'openai'"}],
        )
    url = (base_url or ANTHROPIC_BASE_URL).rstrip("/")
    if len(url) > BASE_URL_MAX:
        raise ValidationFailed(
            f"base_url is too long: at most {BASE_URL_MAX} characters.",
            details=[{"field": "base_url", "message": f"at most {BASE_URL_MAX} characters"}],
        )
    return url


def _check_key(kind: str, has_key: bool) -> None:
    if kind == "anthropic" and not has_key:
        raise ValidationFailed(
            "An Anthropic provider needs an API key.",
            details=[{"field": "api_key", "message": "required for kind 'anthropic'"}],
        )


async def _agents_using(
    session: AsyncSession, provider_id: uuid.UUID, *, outside_models: list[str] | None = None
) -> list[str]:
    query = select(Agent.name).where(Agent.provider_id == provider_id)
    if outside_models is not None:
        query = query.where(col(Agent.model).not_in(outside_models))
    return sorted((await session.exec(query)).all())


async def list_providers(*, session: AsyncSession, actor: Actor, page: Page) -> ProvidersPublic:
    """Providers of the actor's workspace, by name."""
    require(actor, "providers.read")
    query = select(Provider).where(Provider.workspace_id == actor.workspace_id)
    query = apply_filters(query, page=page, name_column=col(Provider.name))
    rows, count = await paginate(
        session, query, page=page, order_by=by_name(Provider.name, Provider.id)
    )
    return ProvidersPublic(data=[to_public(p) for p in rows], count=count)


async def get_provider(
    *, session: AsyncSession, actor: Actor, provider_id: uuid.UUID
) -> ProviderPublic:
    require(actor, "providers.read")
    return to_public(await load_provider(session, actor.workspace_id, provider_id))


async def create_provider(
    *, session: AsyncSession, actor: Actor, data: ProviderCreate
) -> ProviderPublic:
    """Add a connection; the API key is stored encrypted."""
    require(actor, "providers.manage")
    await ensure_name_free(session, Provider, actor.workspace_id, data.name)
    api_key = data.api_key or None
    _check_key(data.kind, bool(api_key))
    provider = Provider(
        workspace_id=actor.workspace_id,
        name=data.name,
        kind=data.kind,
        base_url=_base_url(data.kind, str(data.base_url) if data.base_url else None),
        api_key_encrypted=encrypt_field(api_key) if api_key else None,
        models=list(dict.fromkeys(data.models)),
    )
    session.add(provider)
    await session.flush()
    public = to_public(provider)
    audit.record(
        session,
        actor=actor,
        action="provider.create",
        resource_type="provider",
        resource_id=provider.id,
        after=public,
    )
    await commit_unique(session, "provider", data.name)
    await providers_changed(actor.workspace_id)
    return public


async def update_provider(
    *,
    session: AsyncSession,
    actor: Actor,
    provider_id: uuid.UUID,
    data: ProviderUpdate,
    expected_version: int | None = None,
) -> ProviderPublic:
    """Change name, base URL, key (null or "" removes it) or models."""
    require(actor, "providers.manage")
    provider = await load_provider(session, actor.workspace_id, provider_id, lock=True)
    check_version("provider", provider.version, expected_version)
    updates: dict[str, Any] = changes(data, nullable=frozenset({"base_url", "api_key"}))
    before = to_public(provider)
    with session.no_autoflush:  # validate the new values before anything reaches the database
        if "name" in updates and updates["name"] != provider.name:
            await ensure_name_free(
                session, Provider, actor.workspace_id, updates["name"], exclude=provider.id
            )
            provider.name = updates["name"]
        if "base_url" in updates:
            url = updates["base_url"]
            provider.base_url = _base_url(provider.kind, str(url) if url else None)
        if "api_key" in updates:
            key = updates["api_key"] or None
            provider.api_key_encrypted = encrypt_field(key) if key else None
        _check_key(provider.kind, bool(provider.api_key_encrypted))
        if "models" in updates:
            models = list(dict.fromkeys(updates["models"]))
            if models:
                stranded = await _agents_using(session, provider.id, outside_models=models)
                if stranded:
                    raise Conflict(
                        "These agents use a model you are removing: "
                        f"{', '.join(stranded)}. Change their model first.",
                        details={"agents": stranded},
                    )
            provider.models = models
    provider.version += 1
    provider.updated_at = utcnow()
    session.add(provider)
    await session.flush()
    public = to_public(provider)
    audit.record(
        session,
        actor=actor,
        action="provider.update",
        resource_type="provider",
        resource_id=provider.id,
        before=before,
        after=public,
    )
    await commit_unique(session, "provider", provider.name)
    await providers_changed(actor.workspace_id)
    return public


async def delete_provider(
    *,
    session: AsyncSession,
    actor: Actor,
    provider_id: uuid.UUID,
    expected_version: int | None = None,
) -> None:
    """Remove a connection that no agent uses."""
    require(actor, "providers.manage")
    provider = await load_provider(session, actor.workspace_id, provider_id, lock=True)
    check_version("provider", provider.version, expected_version)
    users = await _agents_using(session, provider.id)
    if users:
        raise Conflict(
            f"The provider '{provider.name}' is used by these agents: {', '.join(users)}. "
            "Point them at another provider first.",
            details={"agents": users},
        )
    audit.record(
        session,
        actor=actor,
        action="provider.delete",
        resource_type="provider",
        resource_id=provider.id,
        before=to_public(provider),
    )
    await session.delete(provider)
    await session.commit()
    await providers_changed(actor.workspace_id)


async def provider_secret(
    *, session: AsyncSession, workspace_id: uuid.UUID, provider_id: uuid.UUID
) -> tuple[Provider, str | None]:
    """For the engine only: the provider row and its decrypted API key (never shown)."""
    provider = await load_provider(session, workspace_id, provider_id)
    return provider, decrypt_key(provider.name, provider.api_key_encrypted)
