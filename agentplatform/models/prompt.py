"""The prompt repository: prompts, immutable numbered versions and movable labels."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agentplatform.models.agent import Label
from agentplatform.models.common import (
    TEXT_MAX,
    VARIABLES_MAX,
    Description,
    InputText,
    JsonObject,
    Name,
    Tags,
    TemplateVariables,
    VariableName,
    created_field,
    id_field,
    json_field,
)


class Prompt(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_prompt_ws_name"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    tags: list[str] = json_field()
    version: int = 1
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class PromptVersion(SQLModel, table=True):
    """Immutable once saved: a change is a new number."""

    __table_args__ = (UniqueConstraint("prompt_id", "number", name="uq_promptversion_number"),)

    id: uuid.UUID = id_field()
    prompt_id: uuid.UUID = Field(foreign_key="prompt.id", ondelete="CASCADE", index=True)
    number: int
    template: str = Field(sa_type=Text)
    variables: list[str] = json_field()
    config: dict[str, Any] = json_field(dict)
    commit_message: str = Field(default="", max_length=500)
    author_id: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_field()


class PromptLabel(SQLModel, table=True):
    """A movable pointer such as `production` to one version."""

    __table_args__ = (UniqueConstraint("prompt_id", "label", name="uq_promptlabel_label"),)

    id: uuid.UUID = id_field()
    prompt_id: uuid.UUID = Field(foreign_key="prompt.id", ondelete="CASCADE", index=True)
    label: str = Field(max_length=40)
    version_id: uuid.UUID = Field(foreign_key="promptversion.id", ondelete="CASCADE")
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    updated_at: datetime = created_field()


class PromptVersionCreate(BaseModel):
    template: Annotated[str, InputText(max_length=TEXT_MAX, min_length=1, multiline=True)]
    variables: list[VariableName] | None = PydanticField(default=None, max_length=VARIABLES_MAX)
    config: JsonObject = PydanticField(default_factory=dict)
    commit_message: Annotated[str, InputText(max_length=500, multiline=True)] = ""


class PromptCreate(BaseModel):
    name: Name
    description: Description = ""
    tags: Tags = PydanticField(default_factory=list)
    first_version: PromptVersionCreate | None = None


class PromptUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None
    tags: Tags | None = None


class LabelMove(BaseModel):
    version: int = PydanticField(ge=1, le=2_147_483_647)


class RenderRequest(BaseModel):
    variables: TemplateVariables = PydanticField(default_factory=dict)
    version: int | None = PydanticField(default=None, ge=1, le=2_147_483_647)
    label: Label | None = None


class RenderedPrompt(BaseModel):
    text: str
    version: int


class PromptVersionPublic(SQLModel):
    number: int
    template: str
    variables: list[str]
    config: dict[str, Any]
    commit_message: str
    author_id: uuid.UUID | None
    created_at: datetime
    labels: list[str] = []


class PromptVersionsPublic(SQLModel):
    data: list[PromptVersionPublic]
    count: int


class PromptPublic(SQLModel):
    id: uuid.UUID
    name: str
    description: str
    tags: list[str]
    labels: dict[str, int]
    latest_version: int | None
    version: int
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class PromptsPublic(SQLModel):
    data: list[PromptPublic]
    count: int


class PromptDiff(BaseModel):
    from_version: int
    to_version: int
    unified: str
    lines: list[dict[str, Any]]
    config_changes: dict[str, Any]
