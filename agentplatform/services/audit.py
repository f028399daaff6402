"""Recording who changed what (every create, update, delete, label move and role change)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import SQLModel

from agentplatform.models import AuditEvent
from agentplatform.services.permissions import Actor

_SECRET_KEYS = {"hashed_password", "api_key", "api_key_encrypted", "key_hash", "token_hash"}


def snapshot(entity: SQLModel | BaseModel | dict[str, Any] | None) -> dict[str, Any] | None:
    """A JSON-safe copy of an entity for before/after, with secrets removed."""
    if entity is None:
        return None
    data = entity if isinstance(entity, dict) else entity.model_dump()
    return {k: _jsonable(v) for k, v in data.items() if k not in _SECRET_KEYS}


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Any,
    *,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID | str | None,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits with the change it describes."""
    event = AuditEvent(
        workspace_id=actor.workspace_id,
        actor_id=actor.user_id,
        actor_label=actor.email,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id) if resource_id is not None else None,
        before=snapshot(before),
        after=snapshot(after),
    )
    session.add(event)
    return event
