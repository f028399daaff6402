"""LLM provider connections and the editable per-model price table."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from agentplatform.models.agent import ModelName
from agentplatform.models.common import InputText, Name, created_field, id_field, json_field

ProviderKind = Literal["openai", "anthropic", "offline"]
ApiKeyText = Annotated[str, InputText(max_length=1000)]


class Provider(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_provider_ws_name"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    base_url: str | None = Field(default=None, max_length=500)
    api_key_encrypted: str | None = Field(default=None, max_length=2000)
    models: list[str] = json_field()
    version: int = 1
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class ProviderCreate(BaseModel):
    name: Name
    kind: ProviderKind
    base_url: AnyHttpUrl | None = None
    api_key: ApiKeyText | None = None
    models: list[ModelName] = PydanticField(default_factory=list, max_length=100)


class ProviderUpdate(BaseModel):
    name: Name | None = None
    base_url: AnyHttpUrl | None = None
    api_key: ApiKeyText | None = None
    models: list[ModelName] | None = PydanticField(default=None, max_length=100)


class ProviderPublic(SQLModel):
    """A provider as shown: the API key is never returned, only whether one is set."""

    id: uuid.UUID
    name: str
    kind: ProviderKind
    base_url: str | None
    has_api_key: bool
    models: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class ProvidersPublic(SQLModel):
    data: list[ProviderPublic]
    count: int


class ModelPrice(SQLModel, table=True):
    """USD per million tokens for one model in one workspace (overrides the defaults)."""

    __table_args__ = (UniqueConstraint("workspace_id", "model", name="uq_price_ws_model"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    model: str = Field(max_length=100)
    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    updated_at: datetime = created_field()
