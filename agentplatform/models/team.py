"""Teams: ordered agents under an orchestration strategy with termination settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel
from pydantic import Field as PydanticField
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from agentplatform.models.common import (
    Description,
    InputText,
    Name,
    Tags,
    created_field,
    id_field,
    json_field,
)

Strategy = Literal["sequential", "round_robin", "selector", "parallel"]
STRATEGIES: tuple[Strategy, ...] = ("sequential", "round_robin", "selector", "parallel")
StopPhrase = Annotated[str, InputText(max_length=200, min_length=1, multiline=True)]


class Team(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("workspace_id", "name", name="uq_team_ws_name"),)

    id: uuid.UUID = id_field()
    workspace_id: uuid.UUID = Field(foreign_key="workspace.id", ondelete="CASCADE", index=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=2000)
    strategy: str = Field(max_length=16)
    selector_agent_id: uuid.UUID | None = Field(
        default=None, foreign_key="agent.id", ondelete="RESTRICT"
    )
    max_turns: int = 10
    stop_phrase: str | None = Field(default=None, max_length=200)
    max_total_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None
    tags: list[str] = json_field()
    version: int = 1
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = created_field()
    updated_at: datetime = created_field()


class TeamMember(SQLModel, table=True):
    """One agent's place in a team; `position` orders the members."""

    __table_args__ = (UniqueConstraint("team_id", "position", name="uq_teammember_pos"),)

    id: uuid.UUID = id_field()
    team_id: uuid.UUID = Field(foreign_key="team.id", ondelete="CASCADE", index=True)
    agent_id: uuid.UUID = Field(foreign_key="agent.id", ondelete="RESTRICT", index=True)
    position: int


class Termination(BaseModel):
    max_turns: int = PydanticField(default=10, ge=1, le=200)
    stop_phrase: Annotated[str, InputText(max_length=200, min_length=1, multiline=True)] | None = (
        None
    )
    max_total_tokens: int | None = PydanticField(default=None, ge=1, le=2_000_000_000)
    max_cost_usd: float | None = PydanticField(default=None, gt=0, le=1_000_000)
    max_seconds: float | None = PydanticField(default=None, gt=0, le=86_400)


class TeamCreate(BaseModel):
    name: Name
    description: Description = ""
    strategy: Strategy
    member_ids: list[uuid.UUID] = PydanticField(min_length=1, max_length=20)
    selector_agent_id: uuid.UUID | None = None
    termination: Termination = PydanticField(default_factory=Termination)
    tags: Tags = PydanticField(default_factory=list)


class TeamUpdate(BaseModel):
    name: Name | None = None
    description: Description | None = None
    strategy: Strategy | None = None
    member_ids: list[uuid.UUID] | None = PydanticField(default=None, min_length=1, max_length=20)
    selector_agent_id: uuid.UUID | None = None
    termination: Termination | None = None
    tags: Tags | None = None


class TeamMemberPublic(SQLModel):
    agent_id: uuid.UUID
    name: str
    position: int


class TeamPublic(SQLModel):
    id: uuid.UUID
    name: str
    description: str
    strategy: Strategy
    members: list[TeamMemberPublic]
    selector_agent_id: uuid.UUID | None
    termination: Termination
    tags: list[str]
    version: int
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class TeamsPublic(SQLModel):
    data: list[TeamPublic]
    count: int
