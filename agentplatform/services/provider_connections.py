"""What the engine needs of a workspace's providers to call them: name, kind, base URL and
the API key, decrypted in memory only when a run starts.

Every run start reads them, so the workspace's connections are cached (the cache holds the
key as stored in the database: encrypted) and every provider write invalidates them at once
(`providers_changed`, in every process sharing the cache).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core import cache
from agentplatform.core.errors import NotFound, ValidationFailed
from agentplatform.core.security import decrypt_field
from agentplatform.models import Provider

# Writes invalidate at once; the TTL bounds how long a lost invalidation (Redis down at that
# moment) could keep a removed provider or a revoked key in use.
CONNECTIONS_CACHE_TTL_S = 60
_PROVIDERS = Provider.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class StoredConnection:
    """A provider row as the engine reads it (the key still encrypted)."""

    name: str
    kind: str
    base_url: str | None
    api_key_encrypted: str | None


@dataclass(frozen=True, slots=True)
class ProviderConnection:
    """A provider ready to call: its API key decrypted (never shown, never logged)."""

    id: uuid.UUID
    name: str
    kind: str
    base_url: str | None
    api_key: str | None = field(repr=False)


def decrypt_key(name: str, encrypted: str | None) -> str | None:
    """The decrypted API key; an undecryptable one is an error saying what to do."""
    if not encrypted:
        return None
    try:
        return decrypt_field(encrypted)
    except ValueError:
        raise ValidationFailed(
            f"The API key of provider '{name}' cannot be decrypted (SECRET_KEY "
            "changed?): enter the key again in the provider settings."
        ) from None


def _scope(workspace_id: uuid.UUID) -> str:
    return f"providers:{workspace_id}"


async def providers_changed(workspace_id: uuid.UUID) -> None:
    """A provider of the workspace was added, changed or removed: forget its cached rows."""
    await cache.invalidate(_scope(workspace_id))


def _encode(rows: Mapping[uuid.UUID, StoredConnection]) -> bytes:
    return json.dumps(
        {str(pid): [r.name, r.kind, r.base_url, r.api_key_encrypted] for pid, r in rows.items()}
    ).encode()


def _decode(raw: bytes) -> dict[uuid.UUID, StoredConnection]:
    """Cached rows; anything unreadable is a ValueError (the cache then loads afresh)."""
    try:
        rows = json.loads(raw)
        return {uuid.UUID(pid): StoredConnection(*fields) for pid, fields in rows.items()}
    except (TypeError, AttributeError) as exc:
        raise ValueError(f"not a provider table: {exc}") from exc


async def _stored(
    session: AsyncSession, workspace_id: uuid.UUID, only: set[uuid.UUID] | None = None
) -> dict[uuid.UUID, StoredConnection]:
    """The workspace's provider rows (or `only` these) from the database."""
    table = _PROVIDERS.c
    query = select(table.id, table.name, table.kind, table.base_url, table.api_key_encrypted)
    query = query.where(table.workspace_id == workspace_id)
    if only is not None:
        query = query.where(table.id.in_(only))
    rows = (await session.execute(query)).all()
    return {pid: StoredConnection(name, kind, url, key) for pid, name, kind, url, key in rows}


async def provider_connections(
    session: AsyncSession, workspace_id: uuid.UUID, provider_ids: set[uuid.UUID]
) -> dict[uuid.UUID, ProviderConnection]:
    """The workspace's providers `provider_ids`, keys decrypted; a missing one is 404."""
    if not provider_ids:
        return {}
    stored = await cache.cached(
        _scope(workspace_id),
        "connections",
        ttl_s=CONNECTIONS_CACHE_TTL_S,
        load=lambda: _stored(session, workspace_id),
        encode=_encode,
        decode=_decode,
    )
    unknown = provider_ids - stored.keys()
    if unknown:  # not in the cached rows: the database decides
        stored = {**stored, **await _stored(session, workspace_id, unknown)}
    missing = sorted(str(provider_id) for provider_id in provider_ids - stored.keys())
    if missing:
        raise NotFound(f"No provider {missing[0]} in this workspace.")
    return {pid: _ready(pid, stored[pid]) for pid in provider_ids}


def _ready(provider_id: uuid.UUID, row: StoredConnection) -> ProviderConnection:
    key = decrypt_key(row.name, row.api_key_encrypted)
    return ProviderConnection(provider_id, row.name, row.kind, row.base_url, key)
