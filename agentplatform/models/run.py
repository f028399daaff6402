"""Runs of an agent or team, and the steps that make up their trace."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agentplatform.models.common import (
    TEXT_MAX,
    InputText,
    UTCDateTime,
    Variables,
    created_field,
    id_field,
    json_field,
)

RunKind = Literal["agent", "team"]
RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
StepKind = Literal["message", "tool_call", "tool_result", "handoff", "error"]


class Run(SQLModel, table=True):
    __table_args__ = (
        Index("ix_run_ws_created", "workspace_id", "created_at"),
        Index("ix_run_ws_status", "workspace_id", "status"),
    )

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE")
    kind: str = Field(max_length=8)
    agent_id: uuid.UUID | None = Field(
        default=None, foreign_key="agent.id", ondelete="SET NULL", index=True
    )
    team_id: uuid.UUID | None = Field(
        default=None, foreign_key="team.id", ondelete="SET NULL", index=True
    )
    target_name: str = Field(max_length=100)
    input: str = Field(sa_type=Text)
    variables: dict[str, Any] = json_field(dict)
    prompt_versions: dict[str, Any] = json_field(dict)
    config: dict[str, Any] = json_field(dict)
    per_agent: dict[str, Any] = json_field(dict)
    status: str = Field(default="queued", max_length=16)
    stopped_reason: str | None = Field(default=None, max_length=40)
    output: str | None = Field(default=None, sa_type=Text)
    error: str | None = Field(default=None, sa_type=Text)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float | None = None
    correlation_id: str | None = Field(default=None, max_length=64)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    worker_id: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_requested: bool = False


class RunStep(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_runstep_seq"),)

    id: uuid.UUID = id_field()
    run_id: uuid.UUID = Field(foreign_key="run.id", ondelete="CASCADE", index=True)
    seq: int
    agent_id: uuid.UUID | None = None
    agent_name: str | None = Field(default=None, max_length=100)
    kind: str = Field(max_length=16)
    content: str = Field(default="", sa_type=Text)
    tool_name: str | None = Field(default=None, max_length=64)
    tool_args: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float | None = None
    model: str | None = Field(default=None, max_length=100)
    created_at: datetime = created_field()


class RunCreate(BaseModel):
    agent_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    input: Annotated[str, InputText(max_length=TEXT_MAX, min_length=1, multiline=True)]
    variables: Variables = PydanticField(default_factory=dict)
    prompt_versions: dict[uuid.UUID, int] = PydanticField(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> RunCreate:
        if (self.agent_id is None) == (self.team_id is None):
            raise ValueError("give exactly one of agent_id or team_id")
        return self


class RunPublic(SQLModel):
    id: uuid.UUID
    kind: RunKind
    agent_id: uuid.UUID | None
    team_id: uuid.UUID | None
    target_name: str
    input: str
    variables: dict[str, Any]
    prompt_versions: dict[str, Any]
    status: RunStatus
    stopped_reason: str | None
    output: str | None
    error: str | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float | None
    correlation_id: str | None
    created_by: uuid.UUID | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    per_agent: dict[str, Any] = {}


class RunsPublic(SQLModel):
    data: list[RunPublic]
    count: int


class RunStepPublic(SQLModel):
    seq: int
    agent_id: uuid.UUID | None
    agent_name: str | None
    kind: StepKind
    content: str
    tool_name: str | None
    tool_args: dict[str, Any] | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float | None
    model: str | None
    created_at: datetime


class RunStepsPublic(SQLModel):
    data: list[RunStepPublic]
    count: int
