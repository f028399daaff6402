"""Reading the workspace's audit trail: newest first, filtered and paginated."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agentplatform.core.errors import ValidationFailed
from agentplatform.models import AuditEvent
from agentplatform.models.audit import AuditEventPublic, AuditEventsPublic
from agentplatform.services.permissions import Actor, require

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def _utc(moment: datetime) -> datetime:
    """Naive times are taken as UTC; aware ones are converted to it."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def list_audit_events(
    *,
    session: AsyncSession,
    actor: Actor,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    action: str | None = None,
    resource_type: str | None = None,
    actor_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditEventsPublic:
    """Events of the caller's workspace (`audit.read`); `count` is the total matching."""
    require(actor, "audit.read")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            f"limit must be between 1 and {MAX_LIMIT}.",
            details=[{"field": "limit", "message": f"must be between 1 and {MAX_LIMIT}"}],
        )
    if offset < 0:
        raise ValidationFailed(
            "offset cannot be negative.",
            details=[{"field": "offset", "message": "cannot be negative"}],
        )
    if since is not None and until is not None and _utc(since) > _utc(until):
        raise ValidationFailed(
            "since must not be later than until.",
            details=[{"field": "since", "message": "must not be later than until"}],
        )
    conditions: list[Any] = [col(AuditEvent.workspace_id) == actor.workspace_id]
    if action:
        conditions.append(col(AuditEvent.action) == action)
    if resource_type:
        conditions.append(col(AuditEvent.resource_type) == resource_type)
    if actor_id is not None:
        conditions.append(col(AuditEvent.actor_id) == actor_id)
    if since is not None:
        conditions.append(col(AuditEvent.at) >= _utc(since))
    if until is not None:
        conditions.append(col(AuditEvent.at) <= _utc(until))
    total = (
        await session.exec(select(func.count()).select_from(AuditEvent).where(*conditions))
    ).one()
    events = (
        await session.exec(
            select(AuditEvent)
            .where(*conditions)
            .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
            .limit(limit)
            .offset(offset)
        )
    ).all()
    data = [AuditEventPublic.model_validate(e, from_attributes=True) for e in events]
    return AuditEventsPublic(data=data, count=int(total))
