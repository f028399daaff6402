"""The current workspace's audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.audit import AuditEventsPublic, AuditFilter
from agentplatform.services import audit_log
from agentplatform.services.audit_log import DEFAULT_LIMIT, MAX_LIMIT

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    response_model=AuditEventsPublic,
    summary="Who changed what, newest first (owners, admins)",
    responses=errors_for(401, 403, 404),
)
async def list_audit_events(
    actor: ActorDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0)] = 0,
    action: Annotated[AuditFilter | None, Query(description="e.g. member.role_change")] = None,
    resource_type: Annotated[
        AuditFilter | None, Query(description="e.g. membership, api_key")
    ] = None,
    actor_id: Annotated[uuid.UUID | None, Query(description="Only this user's actions")] = None,
    since: Annotated[datetime | None, Query(description="From this time (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Up to this time (ISO 8601)")] = None,
) -> AuditEventsPublic:
    return await audit_log.list_audit_events(
        session=session,
        actor=actor,
        limit=limit,
        offset=offset,
        action=action,
        resource_type=resource_type,
        actor_id=actor_id,
        since=since,
        until=until,
    )
