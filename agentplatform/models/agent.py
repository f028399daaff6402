"""Agents: a model, instructions (inline or from the prompt repository), tools, parameters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, model_validator
from pydantic import Field as PydanticField
from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agentplatform.models.common import (
    Description,
    InputText,
    LongText,
    Name,
    Tags,
    created_field,
    id_field,
    json_field,
)

ToolName = Annotated[str, InputText(max_length=64, min_length=1, strip=True)]
Label = Annotated[str, InputText(max_length=40, min_length=1, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
ModelName = Annotated[str, InputText(max_length=100, min_length=1, strip=True)]


class Agent(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_agent_ws_name"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    provider_id: uuid.UUID | None = Field(
        default=None, foreign_key="provider.id", ondelete="SET NULL"
    )
    model: str = Field(max_length=100)
    instructions: str = Field(default="", sa_type=Text)
    prompt_id: uuid.UUID | None = Field(default=None, foreign_key="prompt.id", ondelete="RESTRICT")
    prompt_label: str | None = Field(default=None, max_length=40)
    prompt_version: int | None = None
    temperature: float = 0.7
    max_tokens: int | None = None
    tools: list[str] = json_field()
    max_iterations: int = 6
    timeout_s: float = 120.0
    tags: list[str] = json_field()
    version: int = 1
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class AgentFields(BaseModel):
    """Validation shared by create and update."""

    @model_validator(mode="after")
    def _one_instruction_source(self) -> AgentFields:
        label = getattr(self, "prompt_label", None)
        version = getattr(self, "prompt_version", None)
        if label is not None and version is not None:
            raise ValueError("reference a prompt by prompt_label or by prompt_version, not both")
        return self


class AgentCreate(AgentFields):
    name: Name
    description: Description = ""
    provider_id: uuid.UUID | None = None
    # None: the provider's first listed model, or "offline-demo" for the built-in offline model.
    model: ModelName | None = None
    instructions: LongText = ""
    prompt_id: uuid.UUID | None = None
    prompt_label: Label | None = None
    prompt_version: int | None = PydanticField(default=None, ge=1, le=2_147_483_647)
    temperature: float = PydanticField(default=0.7, ge=0, le=2)
    max_tokens: int | None = PydanticField(default=None, ge=1, le=200_000)
    tools: list[ToolName] = PydanticField(default_factory=list, max_length=32)
    max_iterations: int = PydanticField(default=6, ge=1, le=50)
    timeout_s: float = PydanticField(default=120.0, gt=0, le=3600)
    tags: Tags = PydanticField(default_factory=list)


class AgentUpdate(AgentFields):
    name: Name | None = None
    description: Description | None = None
    provider_id: uuid.UUID | None = None
    model: ModelName | None = None
    instructions: LongText | None = None
    prompt_id: uuid.UUID | None = None
    prompt_label: Label | None = None
    prompt_version: int | None = PydanticField(default=None, ge=1, le=2_147_483_647)
    temperature: float | None = PydanticField(default=None, ge=0, le=2)
    max_tokens: int | None = PydanticField(default=None, ge=1, le=200_000)
    tools: list[ToolName] | None = PydanticField(default=None, max_length=32)
    max_iterations: int | None = PydanticField(default=None, ge=1, le=50)
    timeout_s: float | None = PydanticField(default=None, gt=0, le=3600)
    tags: Tags | None = None


class AgentPublic(SQLModel):
    id: uuid.UUID
    name: str
    description: str
    provider_id: uuid.UUID | None
    model: str
    instructions: str
    prompt_id: uuid.UUID | None
    prompt_label: str | None
    prompt_version: int | None
    temperature: float
    max_tokens: int | None
    tools: list[str]
    max_iterations: int
    timeout_s: float
    tags: list[str]
    version: int
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class AgentsPublic(SQLModel):
    data: list[AgentPublic]
    count: int
