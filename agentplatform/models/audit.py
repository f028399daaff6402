"""Audit events: who changed what, with the before and after."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from agentplatform.models.common import InputText, created_field, id_field

# A filter on the audit trail's `action` or `resource_type` (query parameters).
AuditFilter = Annotated[str, InputText(max_length=40)]


class AuditEvent(SQLModel, table=True):
    __table_args__ = (Index("ix_audit_ws_at", "workspace_id", "at"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    actor_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    actor_label: str = Field(default="", max_length=254)
    action: str = Field(max_length=40)
    resource_type: str = Field(max_length=40)
    resource_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    at: datetime = created_field()


class AuditEventPublic(SQLModel):
    id: uuid.UUID
    actor_id: uuid.UUID | None
    actor_label: str
    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: datetime


class AuditEventsPublic(SQLModel):
    data: list[AuditEventPublic]
    count: int
